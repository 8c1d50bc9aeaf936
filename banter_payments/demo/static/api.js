// The REST client: every call the demo makes goes through here, to the public API only.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.details = error.details || {};
  }
}

function idempotencyKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Api {
  constructor(base) {
    this.base = base;
    this.token = null;
  }

  async call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    // A POST may be retried by the browser or the user: the key makes it safe.
    if (method === "POST") headers["Idempotency-Key"] = idempotencyKey();
    const response = await fetch(this.base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data.error || {});
    return data;
  }

  get(path) { return this.call("GET", path); }
  post(path, body) { return this.call("POST", path, body === undefined ? {} : body); }

  signIn(user, roles) { return this.post("/_sandbox/token", { sub: user, roles }); }
  catalog() { return this.get("/catalog"); }
  createOrder(sku) { return this.post("/orders", { sku }); }
  order(id) { return this.get(`/orders/${encodeURIComponent(id)}`); }
  orders(query) { return this.get(`/orders?${new URLSearchParams(query)}`); }
  verify(response) { return this.post("/verify", response); }
  retry(id) { return this.post(`/orders/${encodeURIComponent(id)}/retry`); }
  wallet() { return this.get("/wallet"); }
  transactions(query) { return this.get(`/wallet/transactions?${new URLSearchParams(query)}`); }
  gift(to, coins, note) {
    const body = { to, coins };
    if (note) body.note = note;
    return this.post("/gifts", body);
  }
  refund(orderId, body) { return this.post(`/orders/${encodeURIComponent(orderId)}/refunds`, body); }
  refunds(orderId) { return this.get(`/orders/${encodeURIComponent(orderId)}/refunds`); }
  webhooks(query) { return this.get(`/admin/webhooks?${new URLSearchParams(query)}`); }
  replay(id) { return this.post(`/admin/webhooks/${encodeURIComponent(id)}/replay`); }
  reconcile() { return this.post("/admin/reconcile"); }
  metrics(query) { return this.get(`/admin/metrics?${new URLSearchParams(query)}`); }
  alerts(query) { return this.get(`/admin/alerts?${new URLSearchParams(query)}`); }

  // Premium plans (the subscriptions plugin).
  subscribe(plan) { return this.post("/subscriptions", { plan }); }
  verifySubscription(response) { return this.post("/subscriptions/verify", response); }
  subscriptions() { return this.get("/subscriptions"); }
  premium() { return this.get("/subscriptions/premium"); }
  cancelSubscription(id, atCycleEnd) {
    return this.post(`/subscriptions/${encodeURIComponent(id)}/cancel`, { atCycleEnd });
  }

  // The notification inbox (the notifications plugin).
  notifications(query) { return this.get(`/notifications?${new URLSearchParams(query)}`); }
  unreadCount() { return this.get("/notifications/unread-count"); }
  markRead(id) { return this.post(`/notifications/${encodeURIComponent(id)}/read`); }
  readAll() { return this.post("/notifications/read-all"); }
}
