/*
 * The modal inside the sandbox Checkout's iframe: load the order (or the subscription),
 * take the customer's test inputs, pay, and tell the page (checkout.js) what happened.
 */
(function () {
  "use strict";

  var FIELDS = {
    "card[number]": "card-number", "card[expiry]": "card-expiry", "card[cvv]": "card-cvv",
    "vpa": "vpa", "email": "email", "contact": "contact", "bank": "bank", "wallet": "wallet"
  };
  var options = null;
  var parentOrigin = null;
  var order = null;
  var busy = false;

  function $(id) { return document.getElementById(id); }

  function show(id) {
    ["loading", "fatal", "pay-form", "bank-page", "failed", "busy"].forEach(function (name) {
      $(name).hidden = name !== id;
    });
  }

  function tell(message) {
    if (parentOrigin) window.parent.postMessage(message, parentOrigin);
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat("en-IN", { style: "currency", currency: currency })
        .format(amount / 100);
    } catch (error) {
      return currency + " " + (amount / 100).toFixed(2);
    }
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: { code: "SERVER_ERROR", description: "The sandbox did not answer.",
                          source: "NA", step: "NA", reason: "NA", metadata: {} } };
      });
    });
  }

  function focusables() {
    return Array.prototype.filter.call(
      $("modal").querySelectorAll("button, input, select, [tabindex]"),
      function (el) { return !el.disabled && el.offsetParent !== null && el.tabIndex >= 0; });
  }

  function focusFirst(root) {
    var target = Array.prototype.find.call(
      root.querySelectorAll("input:not([type=radio]), select, button"),
      function (el) { return el.offsetParent !== null && !el.value; })
      || root.querySelector("button");
    if (target) target.focus();
  }

  function dismiss() {
    if (busy) return;
    tell({ type: "dismiss" });
  }

  function fatal(description) {
    $("fatal-message").textContent = description;
    show("fatal");
    $("fatal-close").focus();
  }

  function retryEnabled() {
    var retry = options.retry;
    return !(retry === false || (retry && typeof retry === "object" && retry.enabled === false));
  }

  function method() {
    return document.querySelector("input[name=method]:checked").value;
  }

  function selectMethod(name) {
    document.querySelectorAll(".method").forEach(function (section) {
      section.hidden = section.getAttribute("data-method") !== name;
    });
  }

  function clearErrors() {
    $("form-error").textContent = "";
    document.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
  }

  function failed(error) {
    error.metadata = error.metadata || {};
    if (!error.metadata.order_id && order) error.metadata.order_id = order.id;
    tell({ type: "failed", error: error });
    $("failed-message").textContent = error.description;
    $("failed-retry").hidden = !retryEnabled();
    show("failed");
    if (retryEnabled()) $("failed-retry").focus();
  }

  function answer(result) {
    busy = false;
    if (result.razorpay_payment_id) {
      tell({ type: "success", response: result });
      show("busy");
      return;
    }
    var error = result.error || {};
    var field = FIELDS[error.field];
    if (field && error.code === "BAD_REQUEST_ERROR" && !(error.metadata || {}).payment_id) {
      show("pay-form");
      var input = $(field);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "form-error");
      $("form-error").textContent = error.description;
      input.focus();
      return;
    }
    failed(error);
  }

  function pay(outcome) {
    if (busy) return;
    busy = true;
    clearErrors();
    var body = {
      key: options.key, order_id: options.order_id, subscription_id: options.subscription_id,
      amount: options.amount, currency: options.currency, notes: options.notes || {},
      description: options.description, method: method(),
      email: $("email").value, contact: $("contact").value
    };
    if (body.method === "card") {
      body.card = { number: $("card-number").value, expiry: $("card-expiry").value,
                    cvv: $("card-cvv").value, name: $("card-name").value };
    } else if (body.method === "upi") {
      body.vpa = $("vpa").value;
    } else if (body.method === "netbanking") {
      body.bank = $("bank").value;
      body.outcome = outcome;
    } else {
      body.wallet = $("wallet").value;
      body.outcome = outcome;
    }
    show("busy");
    post("payments", body).then(answer, function () {
      answer({ error: { code: "GATEWAY_ERROR", description: "The sandbox could not be reached.",
                        source: "NA", step: "NA", reason: "NA", metadata: {} } });
    });
  }

  function fillChoices(select, choices) {
    Object.keys(choices).forEach(function (code) {
      var option = document.createElement("option");
      option.value = code;
      option.textContent = choices[code];
      select.appendChild(option);
    });
  }

  function start(received) {
    options = received;
    var theme = options.theme && options.theme.color;
    if (typeof theme === "string" && /^#[0-9a-fA-F]{3,8}$/.test(theme)) {
      document.documentElement.style.setProperty("--theme", theme);
    }
    $("merchant-name").textContent = options.name || "Checkout";
    $("description").textContent = options.description || "";
    if (typeof options.image === "string" && /^(https?:|data:image\/)/.test(options.image)) {
      $("logo").src = options.image;
      $("logo").hidden = false;
    }
    var prefill = options.prefill || {};
    $("email").value = prefill.email || "";
    $("contact").value = prefill.contact || "";
    $("card-name").value = prefill.name || "";
    post("preferences", {
      key: options.key, order_id: options.order_id, subscription_id: options.subscription_id,
      amount: options.amount, currency: options.currency
    }).then(function (prefs) {
      if (prefs.error) { fatal(prefs.error.description); return; }
      order = prefs.order;
      // A subscription shows its plan's amount: the first cycle is charged with it.
      var due = prefs.order || prefs.subscription;
      $("amount").textContent = money(due.amount, due.currency);
      $("pay").textContent = "Pay " + money(due.amount, due.currency);
      fillChoices($("bank"), prefs.methods.netbanking);
      fillChoices($("wallet"), prefs.methods.wallet);
      var preferred = prefill.method;
      var radio = document.querySelector("input[name=method][value='" + preferred + "']");
      if (radio) radio.checked = true;
      selectMethod(method());
      show("pay-form");
      focusFirst($("pay-form"));
    }, function () { fatal("The sandbox could not be reached."); });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "options") return;
    if (options) return;
    parentOrigin = event.origin;
    start(event.data.options || {});
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (!options || options.modal.escape !== false) { event.preventDefault(); dismiss(); }
      return;
    }
    if (event.key !== "Tab") return;
    var items = focusables();
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    var inside = items.indexOf(document.activeElement) !== -1;
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault(); first.focus();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    $("close").addEventListener("click", dismiss);
    $("fatal-close").addEventListener("click", dismiss);
    $("failed-retry").addEventListener("click", function () {
      show("pay-form");
      focusFirst($("pay-form"));
    });
    document.querySelectorAll("input[name=method]").forEach(function (radio) {
      radio.addEventListener("change", function () { clearErrors(); selectMethod(method()); });
    });
    $("pay-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = method();
      if (chosen === "netbanking" || chosen === "wallet") {
        show("bank-page");
        $("bank-success").focus();
      } else {
        pay(null);
      }
    });
    $("bank-success").addEventListener("click", function () { pay("success"); });
    $("bank-failure").addEventListener("click", function () { pay("failure"); });
    window.parent.postMessage({ type: "ready" }, "*");
  });
})();
