// Drives the official Node SDK (npm package `razorpay`) against a sandbox, as a Node back
// end would: create, fetch, list, checkout, verify, capture, refund, customers. Prints
// every answer as one JSON object for test_sandbox_node_sdk.py to check.
//
// Usage: node node_sdk_flow.js flow              (env: BASE_URL, KEY_ID, KEY_SECRET)
//        node node_sdk_flow.js webhook SECRET    (stdin: {"body": ..., "signature": ...})
"use strict";

const Razorpay = require("razorpay");
const { validatePaymentVerification } = require("razorpay/dist/utils/razorpay-utils");

function client(keySecret) {
  const instance = new Razorpay({ key_id: process.env.KEY_ID, key_secret: keySecret });
  // The one line that points the SDK at the sandbox.
  instance.api.rq.defaults.baseURL = process.env.BASE_URL;
  return instance;
}

async function refusal(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { statusCode: err.statusCode, error: err.error };
  }
}

async function flow() {
  const rzp = client(process.env.KEY_SECRET);
  const out = {};
  out.order = await rzp.orders.create({
    amount: 50000, currency: "INR", receipt: "node-1", notes: { sku: "coins" },
    payment_capture: 0,
  });
  out.fetchedOrder = await rzp.orders.fetch(out.order.id);
  out.orders = await rzp.orders.all({ count: 5 });
  out.trailingSlash = await rzp.api.get({ url: `/orders/${out.order.id}/` });

  const response = await fetch(`${process.env.BASE_URL}/checkout/${out.order.id}/pay`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ method: "card" }),
  });
  out.checkout = await response.json();
  out.verified = validatePaymentVerification(
    { order_id: out.checkout.razorpay_order_id, payment_id: out.checkout.razorpay_payment_id },
    out.checkout.razorpay_signature, process.env.KEY_SECRET);
  out.forgedVerified = validatePaymentVerification(
    { order_id: out.checkout.razorpay_order_id, payment_id: out.checkout.razorpay_payment_id },
    "0".repeat(64), process.env.KEY_SECRET);

  const paymentId = out.checkout.razorpay_payment_id;
  out.authorized = await rzp.payments.fetch(paymentId, { "expand[]": ["card"] });
  out.captured = await rzp.payments.capture(paymentId, 50000, "INR");
  out.orderPayments = await rzp.orders.fetchPayments(out.order.id);
  out.payments = await rzp.payments.all({ count: 10 });
  out.refund = await rzp.payments.refund(paymentId, { amount: 1000, notes: { why: "node" } });
  out.fetchedRefund = await rzp.refunds.fetch(out.refund.id);
  out.paymentRefund = await rzp.payments.fetchRefund(paymentId, out.refund.id);
  out.paymentRefunds = await rzp.payments.fetchMultipleRefund(paymentId, { count: 1 });
  out.refunds = await rzp.refunds.all({ payment_id: paymentId });
  out.refunded = await rzp.payments.fetch(paymentId);

  out.customer = await rzp.customers.create({
    name: "Node Customer", email: "node@example.com", contact: "+919000000009",
  });
  out.existingCustomer = await rzp.customers.create({
    name: "Node Customer", email: "node@example.com", contact: "+919000000009",
    fail_existing: "0",
  });
  out.editedCustomer = await rzp.customers.edit(out.customer.id, { name: "Node Renamed" });
  out.customers = await rzp.customers.all({ count: 10 });

  out.tooMany = await refusal(rzp.orders.all({ count: 101 }));
  out.wrongKey = await refusal(client("wrong-secret").orders.fetch(out.order.id));
  out.missing = await refusal(rzp.payments.fetch("pay_00000000000000"));
  return out;
}

function readStdin() {
  return new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => { data += chunk; });
    process.stdin.on("end", () => resolve(data));
  });
}

async function main() {
  const mode = process.argv[2];
  if (mode === "flow") {
    return flow();
  }
  if (mode === "webhook") {
    const { body, signature } = JSON.parse(await readStdin());
    return {
      valid: Razorpay.validateWebhookSignature(body, signature, process.argv[3]),
      forged: Razorpay.validateWebhookSignature(body + " ", signature, process.argv[3]),
    };
  }
  throw new Error(`unknown mode ${mode}`);
}

main().then(
  (out) => { process.stdout.write(JSON.stringify(out)); },
  (err) => {
    process.stderr.write(`${err.stack || JSON.stringify(err)}\n`);
    process.exit(1);
  },
);
