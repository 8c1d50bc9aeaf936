// The demo: a shop, a wallet, gifts, and an operator's console, over the public REST API.
import { Api, ApiError } from "./api.js";
import { barChart, lineChart } from "./charts.js";

const api = new Api(document.querySelector('meta[name="banter-api"]').content);
const SESSION_KEY = "banter.demo.session";
const POLL_MS = 1000;
const CONFIRM_TIMEOUT_MS = 120000;
const FAILURE_KNOWN_TIMEOUT_MS = 30000;
const THEME = "#0f766e";

let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
if (session) api.token = session.token;

// Every page of the demo. A page with a `feature` is shown only when the API has it:
// Premium when the catalog sells subscription plans (the subscriptions plugin), the
// inbox when /notifications answers (the notifications plugin).
const SECTIONS = [
  { path: "shop", title: "Shop", render: shopPage },
  { path: "premium", title: "Premium", feature: "premium", render: premiumPage },
  { path: "wallet", title: "Wallet", render: walletPage },
  { path: "gift", title: "Gift coins", render: giftPage },
  { path: "orders", title: "My orders", render: myOrdersPage },
  { path: "inbox", title: "Inbox", feature: "inbox", render: inboxPage },
  { path: "admin/orders", title: "Orders & refunds", admin: true, render: adminOrdersPage },
  { path: "admin/webhooks", title: "Webhooks", admin: true, render: adminWebhooksPage },
  { path: "admin/reconcile", title: "Reconcile", admin: true, render: adminReconcilePage },
  { path: "admin/metrics", title: "Metrics", admin: true, render: adminMetricsPage },
];

// ---- small helpers ----

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function money(amount, currency) {
  try {
    return new Intl.NumberFormat("en-IN", { style: "currency", currency }).format(amount / 100);
  } catch (error) {
    return `${currency} ${(amount / 100).toFixed(2)}`;
  }
}

// "100", "100.5", "100.50" (rupees) -> 10050 paise; null when blank; NaN when malformed.
function minorUnits(text) {
  const value = text.trim();
  if (!value) return null;
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) return NaN;
  return Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
}

function grantsText(grants) {
  const parts = Object.entries(grants || {}).map(([asset, qty]) => `${qty} ${asset}`);
  return parts.length ? parts.join(", ") : "nothing";
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString("en-IN") : "";
}

function errorText(error) {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return String(error && error.message ? error.message : error);
}

function setStatus(kind, text, actions = []) {
  const box = document.getElementById("status");
  box.className = `status ${kind || ""}`;
  box.replaceChildren(h("p", {}, text), ...actions);
  box.hidden = false;
  // The message sits above the page: bring it into view when the page was scrolled.
  box.scrollIntoView({ block: "nearest" });
}

function clearStatus() {
  const box = document.getElementById("status");
  box.hidden = true;
  box.replaceChildren();
}

function view(title, ...children) {
  const main = document.getElementById("view");
  const heading = h("h1", { tabindex: "-1" }, title);
  main.replaceChildren(heading, ...children);
  return heading;
}

function table(headers, rows) {
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map(([label, cls]) => h("th", { scope: "col", class: cls }, label)))),
    h("tbody", {}, rows));
}

// ---- session, header and navigation ----

function isAdmin() {
  return Boolean(session && session.roles.includes("admin"));
}

// What the API offers, learnt from the API itself once per sign-in:
// { premium: bool, inbox: bool, plans: {sku: catalog item} }.
let features = null;

async function loadFeatures() {
  if (features) return features;
  const [catalog, inbox] = await Promise.all([
    api.catalog().catch(() => ({ items: [] })),
    api.unreadCount().then(() => true, (error) => {
      if (error instanceof ApiError && error.status === 401) throw error;
      return false;  // 404: the notifications plugin is off
    }),
  ]);
  const plans = Object.fromEntries(catalog.items.filter((i) => i.kind === "subscription")
    .map((item) => [item.sku, item]));
  features = { premium: Object.keys(plans).length > 0, inbox, plans };
  return features;
}

function visible(section) {
  return (!section.admin || isAdmin()) &&
    (!section.feature || Boolean(features && features[section.feature]));
}

async function refreshUnread() {
  const badge = document.getElementById("unread");
  if (!session || !badge) return;
  try {
    const { unread } = await api.unreadCount();
    badge.querySelector(".count").textContent = String(unread);
    badge.hidden = unread === 0;
  } catch (error) {
    badge.hidden = true;
  }
}

async function refreshBalances() {
  if (!session) return;
  try {
    const wallet = await api.wallet();
    const parts = Object.entries(wallet.balances).map(([asset, qty]) => `${qty} ${asset}`);
    document.getElementById("balances").textContent = parts.join(" · ");
  } catch (error) {
    document.getElementById("balances").textContent = "";
  }
}

function renderHeader(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!session) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  nav.replaceChildren(...SECTIONS.filter(visible).map((section) =>
    h("a", { href: `#/${section.path}`, class: section.admin ? "admin" : null,
             "aria-current": section === current ? "page" : null }, section.title,
      // The unread count, read by screen readers as part of the link ("Inbox 2 unread").
      section.path === "inbox"
        ? h("span", { id: "unread", class: "unread-count", hidden: true },
            h("span", { class: "count" }), h("span", { class: "sr-only" }, " unread"))
        : null)));
  who.replaceChildren(
    h("span", {}, `Signed in as ${session.user}${isAdmin() ? " (admin)" : ""} · `),
    h("span", { id: "balances" }),
    h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out"));
  refreshBalances();
  refreshUnread();
}

function signOut() {
  session = null;
  features = null;
  api.token = null;
  sessionStorage.removeItem(SESSION_KEY);
  clearStatus();
  location.hash = "#/signin";
}

function signInPage() {
  renderHeader(null);
  const user = h("input", { id: "signin-user", name: "user", required: true, value: "alice",
                           autocomplete: "username" });
  const admin = h("input", { id: "signin-admin", type: "checkbox", name: "admin" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    const name = user.value.trim();
    if (!name) { error.textContent = "Enter a user id."; user.focus(); return; }
    const roles = admin.checked ? ["admin"] : [];
    try {
      const { token } = await api.signIn(name, roles);
      session = { user: name, roles, token };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
      api.token = token;
      location.hash = "#/shop";
    } catch (failure) {
      error.textContent = errorText(failure);
    }
  } },
    h("label", { for: "signin-user" }, "User id"), user,
    h("label", { for: "signin-admin" }, admin, " Sign in as an admin"),
    h("p", { class: "muted" }, "Any user id works: the sandbox's token route signs a development token."),
    error,
    h("button", { type: "submit" }, "Sign in"));
  view("Sign in", form);
}

// ---- buying: Checkout, verify, then wait for the capture ----

function openCheckout(order) {
  const options = Object.assign({}, order.checkout, {
    theme: { color: THEME },
    // The demo offers "Try again" itself, through the retry route.
    retry: { enabled: false },
    prefill: Object.assign({ email: `${session.user}@example.com`, contact: "9000090000" },
                           order.checkout.prefill),
    handler: (response) => verify(order, response),
    modal: { ondismiss: () => dismissed(order) },
  });
  setStatus("wait", `Paying for ${order.title}…`);
  const checkout = new window.Razorpay(options);
  checkout.on("payment.failed", (response) => paymentFailed(order, response.error));
  checkout.open();
}

async function buy(sku, button) {
  button.disabled = true;
  try {
    openCheckout(await api.createOrder(sku));
  } catch (error) {
    setStatus("bad", `Could not start the purchase: ${errorText(error)}`);
  } finally {
    button.disabled = false;
  }
}

async function verify(order, response) {
  setStatus("wait", "Processing… your payment is being confirmed.");
  let current = null;
  try {
    current = await api.verify(response);
  } catch (error) {
    // A 502 means the gateway did not answer; the capture still arrives by webhook.
    if (!(error instanceof ApiError) || error.status < 500) {
      setStatus("bad", `Verification failed: ${errorText(error)}`);
      return;
    }
  }
  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  while (!current || !current.isConfirmed) {
    if (Date.now() > deadline) {
      setStatus("wait", "Still processing: the order confirms as soon as the payment is captured. See My orders.");
      return;
    }
    await sleep(POLL_MS);
    try { current = await api.order(order.id); } catch (error) { /* keep polling */ }
  }
  setStatus("ok", `Confirmed: ${grantsText(current.grants)} added to your wallet.`,
            [h("a", { href: "#/wallet" }, "Open wallet")]);
  refreshBalances();
  refreshUnread();
}

function paymentFailed(order, error) {
  setStatus("bad", `Payment failed: ${error.description}`,
            [h("button", { type: "button", id: "try-again", onclick: () => tryAgain(order) }, "Try again")]);
  document.getElementById("try-again").focus();
}

function dismissed(order) {
  setStatus("", `Checkout closed. Nothing was charged; your order for ${order.title} is still open.`,
            [h("button", { type: "button", id: "pay-now", onclick: () => openCheckout(order) }, "Pay now")]);
}

async function tryAgain(order) {
  setStatus("wait", "Preparing a new attempt…");
  // The retry route accepts an order once the server knows its payment failed (from the
  // payment.failed webhook), so wait for that first.
  const deadline = Date.now() + FAILURE_KNOWN_TIMEOUT_MS;
  for (;;) {
    const current = await api.order(order.id).catch(() => null);
    if (current && (current.status === "expired" ||
                    (current.payment && current.payment.status === "failed"))) break;
    if (Date.now() > deadline) {
      setStatus("bad", "The failed payment has not reached the server yet; try again in a minute.",
                [h("button", { type: "button", onclick: () => tryAgain(order) }, "Try again")]);
      return;
    }
    await sleep(POLL_MS);
  }
  try {
    openCheckout(await api.retry(order.id));
  } catch (error) {
    setStatus("bad", `Could not retry: ${errorText(error)}`);
  }
}

// ---- premium: subscribe through Checkout (subscription_id), verify, wait for premium ----

const PERIOD_WORDS = { daily: "day", weekly: "week", monthly: "month", yearly: "year" };

function perPeriod(item) {
  const unit = PERIOD_WORDS[item.period] || item.period;
  return item.interval > 1 ? `every ${item.interval} ${unit}s` : `per ${unit}`;
}

function planName(planId) {
  const plan = features && features.plans[planId];
  return plan ? plan.name : planId;
}

function openSubscriptionCheckout(sub) {
  const options = Object.assign({}, sub.checkout, {
    theme: { color: THEME },
    retry: { enabled: false },
    prefill: Object.assign({ email: `${session.user}@example.com`, contact: "9000090000" },
                           sub.checkout.prefill),
    handler: (response) => verifySubscription(response),
    modal: { ondismiss: () => {
      setStatus("", `Checkout closed. Nothing was charged; you are not subscribed to ${sub.checkout.name}.`,
                [h("button", { type: "button", id: "pay-now", onclick: () => openSubscriptionCheckout(sub) },
                   "Pay now")]);
    } },
  });
  setStatus("wait", `Subscribing to ${sub.checkout.name}…`);
  const checkout = new window.Razorpay(options);
  checkout.on("payment.failed", (response) => {
    setStatus("bad", `Payment failed: ${response.error.description}`,
              [h("button", { type: "button", id: "try-again", onclick: () => openSubscriptionCheckout(sub) },
                 "Try again")]);
    document.getElementById("try-again").focus();
  });
  checkout.open();
}

async function subscribe(plan, button) {
  button.disabled = true;
  try {
    openSubscriptionCheckout(await api.subscribe(plan));
  } catch (error) {
    setStatus("bad", `Could not subscribe: ${errorText(error)}`,
              [h("a", { href: "#/premium" }, "See your premium")]);
  } finally {
    button.disabled = false;
  }
}

async function verifySubscription(response) {
  setStatus("wait", "Processing… your subscription is being confirmed.");
  try {
    await api.verifySubscription(response);
  } catch (error) {
    // A 502: Razorpay did not answer; the subscription's webhooks still bring premium.
    if (!(error instanceof ApiError) || error.status < 500) {
      setStatus("bad", `Verification failed: ${errorText(error)}`);
      return;
    }
  }
  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  for (;;) {
    const premium = await api.premium().catch(() => null);
    if (premium && premium.isPremium) {
      setStatus("ok", `Premium active until ${when(premium.premiumUntil)}.`,
                [h("a", { href: "#/premium" }, "Manage premium")]);
      refreshUnread();
      if (location.hash === "#/premium") route();
      return;
    }
    if (Date.now() > deadline) {
      setStatus("wait", "Still processing: premium starts as soon as the first payment is captured.");
      return;
    }
    await sleep(POLL_MS);
  }
}

// ---- pages ----

function itemCard(item) {
  const badges = [];
  const headline = [];
  if (item.kind === "coins") {
    headline.push(h("p", { class: "big" }, `${item.coins} coins`));
    if (item.bonus) badges.push(h("span", { class: "badge bonus" }, `+${item.bonus} bonus (${item.bonusPercent}%)`));
  } else if (item.kind === "credits") {
    headline.push(h("p", { class: "big" }, `${item.credits} credits`));
    headline.push(h("p", { class: "muted" }, `${money(item.pricePerCredit, item.currency)} per credit`));
  } else if (item.kind === "subscription") {
    if (item.description && item.description !== item.name) {
      headline.push(h("p", { class: "muted" }, item.description));
    }
    badges.push(h("span", { class: "badge premium" }, "Premium"));
  } else {
    headline.push(h("p", { class: "muted" }, item.description));
  }
  if (item.popular) badges.push(h("span", { class: "badge hot" }, "Popular"));
  if (item.bestValue) badges.push(h("span", { class: "badge best" }, "Best value"));
  const price = money(item.amount, item.currency);
  let button;
  if (item.kind === "subscription") {
    button = h("button", { type: "button", "data-sku": item.sku,
                           "aria-label": `Subscribe to ${item.name} for ${price} ${perPeriod(item)}` }, "Subscribe");
    button.addEventListener("click", () => subscribe(item.sku, button));
  } else {
    button = h("button", { type: "button", "data-sku": item.sku,
                           "aria-label": `Buy ${item.name} for ${price}` }, "Buy");
    button.addEventListener("click", () => buy(item.sku, button));
  }
  return h("article", { class: "card", "data-sku": item.sku },
    h("h3", {}, item.name), h("div", { class: "badges" }, badges), ...headline,
    h("p", { class: "price" }, item.kind === "subscription" ? `${price} ${perPeriod(item)}` : price),
    button);
}

async function shopPage() {
  const { items } = await api.catalog();
  const groups = [
    ["Coin packs", items.filter((i) => i.kind === "coins")],
    ["Credit plans", items.filter((i) => i.kind === "credits")],
    ["Premium plans", items.filter((i) => i.kind === "subscription")],
    ["More", items.filter((i) => !["coins", "credits", "subscription"].includes(i.kind))],
  ].filter(([, list]) => list.length);
  return view("Shop", ...groups.map(([title, list]) => [
    h("h2", {}, title), h("div", { class: "grid" }, list.map(itemCard))]).flat());
}

async function walletPage() {
  const wallet = await api.wallet();
  const assetSelect = h("select", { id: "history-asset" },
    h("option", { value: "" }, "All"),
    Object.keys(wallet.balances).map((asset) => h("option", { value: asset }, asset)));
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", id: "history-more", hidden: true }, "Show older");
  let cursor = null;
  async function load(reset) {
    const query = { limit: "10" };
    if (assetSelect.value) query.asset = assetSelect.value;
    if (!reset && cursor) query.cursor = cursor;
    const page = await api.transactions(query);
    if (reset) body.replaceChildren();
    for (const entry of page.items) {
      body.append(h("tr", {},
        h("td", {}, when(entry.createdAt)), h("td", {}, entry.description || entry.kind),
        h("td", {}, entry.asset), h("td", { class: "num" }, entry.amount > 0 ? `+${entry.amount}` : entry.amount),
        h("td", { class: "num" }, entry.balanceAfter)));
    }
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: "5" }, "No transactions yet.")));
    cursor = page.nextCursor;
    more.hidden = !cursor;
  }
  assetSelect.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  const heading = view("Wallet",
    h("div", { class: "balances" }, Object.entries(wallet.balances).map(([asset, qty]) =>
      h("div", { class: "card", "data-asset": asset }, h("p", { class: "muted" }, asset),
        h("p", { class: "big" }, String(qty))))),
    Object.keys(wallet.entitlements || {}).length
      ? h("p", {}, `Entitlements: ${Object.keys(wallet.entitlements).join(", ")}`) : null,
    h("h2", {}, "History"),
    h("p", {}, h("label", { for: "history-asset" }, "Asset "), assetSelect),
    h("table", {}, h("thead", {}, h("tr", {}, ["When", "What", "Asset", "Amount", "Balance"].map((label, i) =>
      h("th", { scope: "col", class: i >= 3 ? "num" : null }, label)))), body),
    h("p", {}, more));
  await load(true);
  return heading;
}

function giftPage() {
  const to = h("input", { id: "gift-to", name: "to", required: true, autocomplete: "off" });
  const coins = h("input", { id: "gift-coins", name: "coins", type: "number", min: "1", step: "1", required: true });
  const note = h("input", { id: "gift-note", name: "note", maxlength: "200" });
  const result = h("p", { role: "alert" });
  const form = h("form", { class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    const amount = Number(coins.value);
    if (!to.value.trim() || !Number.isInteger(amount) || amount < 1) {
      result.className = "error";
      result.textContent = "Enter who receives the gift and a whole number of coins.";
      return;
    }
    try {
      const gift = await api.gift(to.value.trim(), amount, note.value.trim());
      result.className = "okay";
      result.textContent = `Sent ${gift.coins} coins to ${gift.to}. Your balance: ${gift.balance} coins.`;
      refreshBalances();
    } catch (error) {
      result.className = "error";
      result.textContent = `Gift not sent: ${errorText(error)}`;
    }
  } },
    h("label", { for: "gift-to" }, "Friend's user id"), to,
    h("label", { for: "gift-coins" }, "Coins"), coins,
    h("label", { for: "gift-note" }, "Note (optional)"), note,
    h("button", { type: "submit" }, "Send gift"), result);
  return view("Gift coins", form);
}

function orderRow(order, actions) {
  const payment = order.payment;
  return h("tr", { "data-order": order.id },
    h("td", {}, when(order.createdAt)), h("td", {}, order.title),
    h("td", { class: "num" }, money(order.amount, order.currency)),
    h("td", {}, order.status, order.isConfirmed ? " ✓" : ""),
    h("td", {}, payment ? `${payment.method || ""} ${payment.status}` : "—"),
    h("td", {}, order.refundedAmount ? `${money(order.refundedAmount, order.currency)} (${order.refundStatus})` : "—"),
    h("td", {}, actions));
}

const ORDER_HEADERS = [["Created"], ["Item"], ["Amount", "num"], ["Status"], ["Payment"], ["Refunded"], [""]];

async function myOrdersPage() {
  const { items } = await api.orders({ limit: "20" });
  const rows = items.map((order) => {
    const failed = order.status !== "paid" && order.payment && order.payment.status === "failed";
    return orderRow(order, failed
      ? h("button", { type: "button", onclick: () => tryAgain(order) }, "Try again") : null);
  });
  return view("My orders", items.length ? table(ORDER_HEADERS, rows) : h("p", {}, "No orders yet."));
}

function refundLine(refund) {
  const clawed = grantsText(refund.clawedBack);
  const short = Object.values(refund.shortfall || {}).some((n) => n > 0) ? grantsText(refund.shortfall) : "none";
  return h("li", { "data-refund": refund.id },
    `${money(refund.amount, refund.currency)} ${refund.status} — ${refund.reason}. `,
    `Clawed back: ${clawed}. Shortfall: ${short}.`);
}

function refundPanel(order, cell) {
  const amount = h("input", { id: `refund-amount-${order.id}`, inputmode: "decimal", placeholder: "all that is left" });
  const reason = h("input", { id: `refund-reason-${order.id}`, required: true, value: "" });
  const list = h("ul", { class: "refunds" });
  const message = h("p", { role: "alert" });
  async function loadRefunds() {
    const { items } = await api.refunds(order.id);
    list.replaceChildren(...items.map(refundLine));
  }
  const form = h("form", { class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    const minor = minorUnits(amount.value);
    if (Number.isNaN(minor) || !reason.value.trim()) {
      message.className = "error";
      message.textContent = "Give a reason, and an amount in rupees (e.g. 100.50) or nothing for a full refund.";
      return;
    }
    const body = { reason: reason.value.trim() };
    if (minor !== null) body.amount = minor;
    try {
      const refund = await api.refund(order.id, body);
      message.className = "okay";
      message.textContent = `Refund ${refund.status}: ${money(refund.amount, refund.currency)}. ` +
        `Clawed back ${grantsText(refund.clawedBack)}.`;
      await loadRefunds();
    } catch (error) {
      message.className = "error";
      message.textContent = `Refund refused: ${errorText(error)}`;
    }
  } },
    h("div", {}, h("label", { for: amount.id }, "Amount (₹)"), h("br"), amount),
    h("div", {}, h("label", { for: reason.id }, "Reason"), h("br"), reason),
    h("button", { type: "submit" }, "Refund"));
  cell.replaceChildren(h("div", { class: "refund-box" }, form, message, list));
  loadRefunds();
  amount.focus();
}

async function adminOrdersPage() {
  const user = h("input", { id: "admin-user", name: "user", required: true, value: sessionStorage.getItem("banter.demo.adminUser") || "" });
  const results = h("div");
  async function load() {
    const userId = user.value.trim();
    if (!userId) return;
    sessionStorage.setItem("banter.demo.adminUser", userId);
    const { items } = await api.orders({ userId, limit: "20" });
    const rows = items.map((order) => {
      const cell = h("td", { colspan: "7" });
      const detail = h("tr", { hidden: true }, cell);
      const button = order.status === "paid"
        ? h("button", { type: "button", class: "secondary", "aria-label": `Refund ${order.title} (${order.id})`,
                        onclick: () => { detail.hidden = false; refundPanel(order, cell); } }, "Refund…")
        : null;
      return [orderRow(order, button), detail];
    }).flat();
    results.replaceChildren(items.length ? table(ORDER_HEADERS, rows) : h("p", {}, `No orders for ${userId}.`));
  }
  const form = h("form", { class: "inline", onsubmit: (event) => { event.preventDefault(); load().catch(showError); } },
    h("div", {}, h("label", { for: "admin-user" }, "Customer's user id"), h("br"), user),
    h("button", { type: "submit" }, "Show orders"));
  const heading = view("Orders & refunds", form, results);
  if (user.value) await load();
  return heading;
}

async function adminWebhooksPage() {
  const filter = h("select", { id: "webhook-status" },
    h("option", { value: "failed" }, "Failed"), h("option", { value: "" }, "All"));
  const results = h("div");
  async function load() {
    const query = { limit: "50" };
    if (filter.value) query.status = filter.value;
    const { items } = await api.webhooks(query);
    const rows = items.map((delivery) => {
      const outcome = h("span");
      const replay = delivery.status === "failed"
        ? h("button", { type: "button", class: "secondary", "aria-label": `Replay ${delivery.event} ${delivery.id}`,
                        onclick: async (event) => {
            event.target.disabled = true;
            try {
              const answer = await api.replay(delivery.id);
              outcome.textContent = ` replayed: ${answer.status || "done"}`;
            } catch (error) {
              outcome.textContent = ` replay failed: ${errorText(error)}`;
              event.target.disabled = false;
            }
          } }, "Replay") : null;
      return h("tr", { "data-delivery": delivery.id },
        h("td", {}, when(delivery.receivedAt)), h("td", {}, delivery.event), h("td", {}, delivery.source),
        h("td", {}, delivery.status), h("td", {}, delivery.error || ""), h("td", {}, replay, outcome));
    });
    results.replaceChildren(items.length
      ? table([["Received"], ["Event"], ["Source"], ["Status"], ["Error"], [""]], rows)
      : h("p", {}, "No deliveries to show."));
  }
  filter.addEventListener("change", () => load().catch(showError));
  const heading = view("Webhooks", h("p", {}, h("label", { for: "webhook-status" }, "Show "), filter), results);
  await load();
  return heading;
}

function adminReconcilePage() {
  const output = h("div", { role: "status" });
  const button = h("button", { type: "button", id: "run-reconcile", onclick: async () => {
    button.disabled = true;
    try {
      const report = await api.reconcile();
      output.replaceChildren(
        h("p", {}, `Checked ${report.checked} orders; changed ${report.changed}.`),
        h("pre", {}, JSON.stringify(report, null, 2)));
    } catch (error) {
      output.replaceChildren(h("p", { class: "error" }, errorText(error)));
    } finally {
      button.disabled = false;
    }
  } }, "Run reconcile now");
  return view("Reconcile",
    h("p", {}, "Asks Razorpay (here, the sandbox) about open orders and applies what it finds."),
    button, output);
}

// ---- the operators' dashboard: /admin/metrics and /admin/alerts ----

const RANGES = [
  { value: "24h", label: "Last 24 hours (hourly)", hours: 24, bucket: "hour" },
  { value: "7d", label: "Last 7 days (hourly)", hours: 24 * 7, bucket: "hour" },
  { value: "30d", label: "Last 30 days (daily)", hours: 24 * 30, bucket: "day" },
];

function isoSeconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// The window ends at the start of the next bucket, so the last bucket is the current one.
function windowOf(range) {
  const end = new Date();
  if (range.bucket === "day") end.setUTCHours(24, 0, 0, 0);
  else end.setUTCMinutes(60, 0, 0);
  const start = new Date(end.getTime() - range.hours * 3600 * 1000);
  return { from: isoSeconds(start), to: isoSeconds(end), bucket: range.bucket };
}

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}

function lagText(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
}

function bucketLabel(bucket) {
  return (date) => bucket === "day"
    ? date.toLocaleDateString("en-IN", { day: "numeric", month: "short", timeZone: "UTC" })
    : date.toLocaleString("en-IN", { day: "numeric", month: "short", hour: "2-digit",
                                     minute: "2-digit", hour12: false, timeZone: "UTC" });
}

// The currency with the most revenue in the window (the charts show one currency).
function mainCurrency(totals) {
  const rows = [...totals.revenue].sort((a, b) => b.amount - a.amount);
  return rows.length ? rows[0].currency : "INR";
}

function stat(label, value, key) {
  return h("div", { class: "card stat", "data-stat": key }, h("p", { class: "muted" }, label),
    h("p", { class: "big" }, value));
}

function chartFigure(caption, svg) {
  return h("figure", { class: "chart-box" }, svg, h("figcaption", { class: "muted" }, caption));
}

function metricsView(report, alerts) {
  const totals = report.totals;
  const currency = mainCurrency(totals);
  const xFormat = bucketLabel(report.bucket);
  const starts = report.series.map((b) => new Date(b.start));
  const revenueOf = (rows) => (rows.find((r) => r.currency === currency) || { amount: 0 }).amount;
  const revenue = totals.revenue.find((r) => r.currency === currency);
  const lag = totals.webhookLag;
  const fired = alerts.items;
  return [
    h("div", { class: "stats" },
      stat("Success rate", percent(totals.successRate), "success-rate"),
      stat("Attempts", `${totals.succeeded} ok · ${totals.failed} failed`, "attempts"),
      stat(`Revenue (${currency})`, money(revenue ? revenue.amount : 0, currency), "revenue"),
      stat("Average order", revenue ? money(revenue.averageOrderValue, currency) : "—", "aov"),
      stat("Webhook lag p50 / p95 / p99", `${lagText(lag.p50Ms)} / ${lagText(lag.p95Ms)} / ${lagText(lag.p99Ms)}`,
           "webhook-lag")),
    h("h2", {}, "Over time"),
    h("div", { class: "charts" },
      chartFigure("Success rate: succeeded / attempts per bucket (gaps: no attempts)", lineChart({
        id: "success-rate", title: "Success rate over time", yMax: 1, yFormat: percent, xFormat,
        points: report.series.map((b, i) => ({ x: starts[i], y: b.successRate })) })),
      chartFigure(`Revenue per bucket, ${currency}`, barChart({
        id: "revenue", title: `Revenue over time (${currency})`, xFormat, className: "revenue",
        yFormat: (v) => money(v, currency),
        points: report.series.map((b, i) => ({ x: starts[i], y: revenueOf(b.revenue) })) })),
      chartFigure("Failed payment attempts per bucket", barChart({
        id: "failures", title: "Failures over time", xFormat, className: "failures",
        yFormat: (v) => String(Math.round(v)),
        points: report.series.map((b, i) => ({ x: starts[i], y: b.failed })) })),
      chartFigure("Webhook lag p95 per bucket (receipt time minus the event's created_at)", lineChart({
        id: "webhook-lag", title: "Webhook lag p95 over time", xFormat, yFormat: lagText, minTop: 1000,
        points: report.series.map((b, i) => ({ x: starts[i], y: b.webhookLag.p95Ms })) }))),
    h("h2", {}, "Failure reasons"),
    totals.failureReasons.length
      ? table([["Code"], ["Reason"], ["Failures", "num"]], totals.failureReasons.map((r) =>
          h("tr", { "data-failure": r.code }, h("td", {}, r.code || "—"), h("td", {}, r.reason || "—"),
            h("td", { class: "num" }, String(r.count)))))
      : h("p", {}, "No failed payments in this window."),
    h("h2", {}, "Alerts"),
    alerts.states.length
      ? table([["Alert"], ["State"], ["Last value"], ["Since"]], alerts.states.map((a) =>
          h("tr", { "data-alert": a.name, class: a.state === "firing" ? "firing" : null },
            h("td", {}, a.name), h("td", {}, a.state === "firing" ? "FIRING" : "ok"),
            h("td", {}, a.value || "—"), h("td", {}, when(a.changedAt)))))
      : h("p", {}, "The alerts have not been evaluated yet."),
    h("h3", {}, "Fired and resolved"),
    fired.length
      ? table([["When"], ["Alert"], ["What"], ["Value"], ["Threshold"], ["Message"]], fired.map((e) =>
          h("tr", { "data-alert-event": e.id },
            h("td", {}, when(e.occurredAt)), h("td", {}, e.name),
            h("td", {}, e.kind === "raised" ? "raised" : "resolved"), h("td", {}, e.value),
            h("td", {}, e.threshold), h("td", {}, e.message))))
      : h("p", {}, "No alert has fired."),
  ];
}

async function adminMetricsPage() {
  const select = h("select", { id: "metrics-range" },
    RANGES.map((r) => h("option", { value: r.value }, r.label)));
  const results = h("div", { id: "metrics" });
  async function load() {
    const range = RANGES.find((r) => r.value === select.value) || RANGES[0];
    const [report, alerts] = await Promise.all([
      api.metrics(windowOf(range)), api.alerts({ limit: "20" })]);
    results.replaceChildren(...metricsView(report, alerts));
  }
  select.addEventListener("change", () => load().catch(showError));
  const refresh = h("button", { type: "button", class: "secondary", id: "metrics-refresh",
                                onclick: () => load().catch(showError) }, "Refresh");
  const heading = view("Metrics",
    h("form", { class: "inline", onsubmit: (event) => event.preventDefault() },
      h("div", {}, h("label", { for: "metrics-range" }, "Window"), h("br"), select), refresh),
    results);
  await load();
  return heading;
}

// ---- premium: status, subscriptions, cancelling ----

const CANCELLABLE = ["created", "authenticated", "active", "pending", "paused"];

function premiumSummary(premium) {
  if (premium.isPremium) {
    return h("p", { id: "premium-status", class: "okay" },
      `Premium is active until ${when(premium.premiumUntil)} (${planName(premium.plan)}).`);
  }
  return h("p", { id: "premium-status" },
    premium.premiumUntil ? `Premium ended on ${when(premium.premiumUntil)}. ` : "You are not premium. ",
    h("a", { href: "#/shop" }, "See the premium plans"));
}

async function cancelSubscription(sub, atCycleEnd) {
  try {
    const updated = await api.cancelSubscription(sub.id, atCycleEnd);
    await route();  // the page again, as the cancel left it; then what happened
    setStatus("ok", atCycleEnd
      ? `Renewal cancelled: premium stays until ${when(updated.premiumUntil || updated.currentEnd)}.`
      : `Subscription cancelled (${updated.status}).`);
  } catch (error) {
    setStatus("bad", `Could not cancel: ${errorText(error)}`);
  }
}

function subscriptionRow(sub) {
  const name = planName(sub.plan);
  const actions = [];
  if (CANCELLABLE.includes(sub.status)) {
    if (sub.status === "active" && !sub.cancelAtCycleEnd) {
      actions.push(h("button", { type: "button", class: "secondary",
                                 "aria-label": `Cancel ${name} at the end of the paid period`,
                                 onclick: () => cancelSubscription(sub, true) }, "Cancel at period end"));
    }
    actions.push(h("button", { type: "button", class: "secondary",
                               "aria-label": `Cancel ${name} now`,
                               onclick: () => cancelSubscription(sub, false) }, "Cancel now"));
  }
  const status = sub.cancelAtCycleEnd && !["cancelled", "completed", "expired"].includes(sub.status)
    ? `${sub.status}, renewal cancelled` : sub.status;
  return h("tr", { "data-subscription": sub.id },
    h("td", {}, when(sub.createdAt)), h("td", {}, name),
    h("td", { class: "num" }, money(sub.amount, sub.currency)),
    h("td", {}, status), h("td", {}, `${sub.paidCount} of ${sub.totalCount}`),
    h("td", {}, when(sub.premiumUntil) || "—"), h("td", {}, actions));
}

async function premiumPage() {
  const [premium, { items }] = await Promise.all([api.premium(), api.subscriptions()]);
  return view("Premium", premiumSummary(premium),
    h("h2", {}, "Your subscriptions"),
    items.length
      ? table([["Started"], ["Plan"], ["Amount", "num"], ["Status"], ["Cycles paid"], ["Premium until"], [""]],
              items.map(subscriptionRow))
      : h("p", {}, "No subscriptions yet."));
}

// ---- the notification inbox ----

async function inboxPage() {
  const list = h("ul", { class: "inbox", id: "inbox", "aria-label": "Notifications" });
  const more = h("button", { type: "button", class: "secondary", id: "inbox-more", hidden: true }, "Show older");
  const empty = h("p", { hidden: true }, "No notifications yet.");
  let cursor = null;

  function entry(note) {
    const li = h("li", { "data-notification": note.id, class: note.read ? "read" : "unread", tabindex: "-1" },
      h("h3", {}, note.title, note.read ? null : h("span", { class: "badge hot" }, "New")),
      h("p", {}, note.body), h("p", { class: "muted" }, when(note.createdAt)));
    if (!note.read) {
      li.append(h("button", { type: "button", class: "secondary", "aria-label": `Mark read: ${note.title}`,
        onclick: async () => {
          try {
            const updated = await api.markRead(note.id);
            const replaced = entry(updated);
            li.replaceWith(replaced);
            replaced.focus();
            refreshUnread();
          } catch (error) {
            showError(error);
          }
        } }, "Mark read"));
    }
    return li;
  }

  async function load(reset) {
    const query = { limit: "20" };
    if (!reset && cursor) query.cursor = cursor;
    const page = await api.notifications(query);
    if (reset) list.replaceChildren();
    list.append(...page.items.map(entry));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  }

  more.addEventListener("click", () => load(false).catch(showError));
  const readAll = h("button", { type: "button", id: "read-all", onclick: async () => {
    try {
      const { marked } = await api.readAll();
      setStatus("ok", `Marked ${marked} notification${marked === 1 ? "" : "s"} read.`);
      await load(true);
      refreshUnread();
    } catch (error) {
      showError(error);
    }
  } }, "Mark all read");
  const heading = view("Inbox", h("p", {}, readAll), empty, list, h("p", {}, more));
  await load(true);
  return heading;
}

function showError(error) {
  setStatus("bad", errorText(error));
}

// ---- routing ----

async function route() {
  const path = location.hash.replace(/^#\/?/, "") || "shop";
  if (!session || path === "signin") {
    if (session && path === "signin") { location.hash = "#/shop"; return; }
    signInPage();
    return;
  }
  try {
    await loadFeatures();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { signOut(); return; }
  }
  const section = SECTIONS.find((s) => s.path === path && visible(s)) || SECTIONS[0];
  renderHeader(section);
  document.title = `${section.title} · Banter demo`;
  try {
    const heading = await section.render();
    if (heading && route.navigated) heading.focus();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { signOut(); return; }
    view(section.title, h("p", { class: "error", role: "alert" }, errorText(error)));
  }
  route.navigated = true;
}

window.addEventListener("hashchange", route);
route();
// The unread badge follows what arrives while the page is open.
setInterval(() => { if (session && features && features.inbox) refreshUnread(); }, 15000);
