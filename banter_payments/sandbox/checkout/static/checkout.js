/*
 * The sandbox's checkout.js: Razorpay Checkout's public API, served by the sandbox.
 *
 *   var rzp = new Razorpay(options);     // throws "No key passed" without options.key
 *   rzp.on("payment.failed", function (response) { response.error.code ... });
 *   rzp.open();                          // the modal: an iframe served by the sandbox
 *   rzp.close();
 *
 * options: key, amount, currency, order_id or subscription_id, name, description, image,
 * prefill {name, email, contact, method}, notes, theme.color, handler,
 * modal {ondismiss, escape}, retry (false or {enabled}).
 *
 * handler(response): {razorpay_payment_id, razorpay_order_id, razorpay_signature} for an
 * order; with subscription_id (the subscription's authentication payment)
 * {razorpay_payment_id, razorpay_subscription_id, razorpay_signature}, as Razorpay's.
 *
 * The modal lives at the origin this script came from; the page and the modal talk only
 * through postMessage, each checking the other's origin and window.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var scriptUrl = new URL(script ? script.src : "v1/checkout.js", document.baseURI);
  var base = scriptUrl.href.replace(/\/v1\/checkout\.js(?:[?#].*)?$/, "");
  var frameOrigin = scriptUrl.origin;

  // The options the modal needs, as plain data (functions stay on this page).
  function portable(options) {
    var copy = {};
    ["key", "amount", "currency", "order_id", "subscription_id", "name", "description",
     "image", "notes", "prefill", "theme", "retry"].forEach(function (name) {
      if (options[name] !== undefined && typeof options[name] !== "function") {
        copy[name] = JSON.parse(JSON.stringify(options[name]));
      }
    });
    var modal = options.modal || {};
    copy.modal = { escape: modal.escape !== false };
    return copy;
  }

  function retryEnabled(options) {
    var retry = options.retry;
    if (retry === false) return false;
    if (retry && typeof retry === "object" && retry.enabled === false) return false;
    return true;
  }

  function Razorpay(options) {
    if (!(this instanceof Razorpay)) return new Razorpay(options);
    if (!options || typeof options !== "object" || !options.key) {
      throw new Error("No key passed");
    }
    this.options = options;
    this._listeners = {};
    this._container = null;
    this._onMessage = this._message.bind(this);
  }

  Razorpay.prototype.on = function (event, callback) {
    if (typeof callback === "function") {
      (this._listeners[event] = this._listeners[event] || []).push(callback);
    }
    return this;
  };

  Razorpay.prototype._emit = function (event, payload) {
    (this._listeners[event] || []).forEach(function (callback) {
      try { callback(payload); } catch (error) { setTimeout(function () { throw error; }); }
    });
  };

  Razorpay.prototype.open = function () {
    if (this._container) return this;
    this._returnFocus = document.activeElement;
    var container = document.createElement("div");
    container.className = "razorpay-container";
    var style = container.style;
    style.position = "fixed";
    style.inset = "0";
    style.zIndex = "2147483647";
    style.background = "transparent";
    var frame = document.createElement("iframe");
    frame.className = "razorpay-checkout-frame";
    frame.title = "Razorpay Checkout (sandbox)";
    frame.src = base + "/checkout/frame";
    frame.setAttribute("allowtransparency", "true");
    frame.style.width = "100%";
    frame.style.height = "100%";
    frame.style.border = "0";
    frame.style.background = "transparent";
    container.appendChild(frame);
    this._frame = frame;
    this._container = container;
    this._overflow = document.body.style.overflow;
    document.body.style.overflow = "hidden";
    window.addEventListener("message", this._onMessage);
    document.body.appendChild(container);
    return this;
  };

  Razorpay.prototype.close = function () {
    if (!this._container) return this;
    window.removeEventListener("message", this._onMessage);
    this._container.remove();
    this._container = null;
    this._frame = null;
    document.body.style.overflow = this._overflow || "";
    var back = this._returnFocus;
    if (back && typeof back.focus === "function" && document.contains(back)) back.focus();
    return this;
  };

  Razorpay.prototype._message = function (event) {
    if (!this._frame || event.source !== this._frame.contentWindow) return;
    if (event.origin !== frameOrigin) return;
    var data = event.data || {};
    var options = this.options;
    if (data.type === "ready") {
      this._frame.contentWindow.postMessage(
        { type: "options", options: portable(options) }, frameOrigin);
      this._frame.focus();
    } else if (data.type === "success") {
      this.close();
      if (typeof options.handler === "function") options.handler(data.response);
    } else if (data.type === "failed") {
      this._emit("payment.failed", { error: data.error });
      if (!retryEnabled(options)) this.close();
    } else if (data.type === "dismiss") {
      this.close();
      var modal = options.modal || {};
      if (typeof modal.ondismiss === "function") modal.ondismiss();
    }
  };

  window.Razorpay = Razorpay;
})();
