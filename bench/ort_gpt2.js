// ONNX Runtime (npm onnxruntime-node, CPU) on a GPT-2 KV-cache export: prefill
// and decode timings, the peer for bench/e2e_gpt2_124m.py.
//
//   node bench/ort_gpt2.js MODEL.onnx THREADS PREFILL DECODE_CONTEXT DECODE_TOKENS REPEATS
//
// Prints one JSON line: {"prefill_s": [...], "decode_s": [...]} (seconds per
// prefill run and per decoded token), measured after one warm-up run.
const path = require("path");
const ort = require(path.join(__dirname, "..", "third_party", "npm", "node_modules", "onnxruntime-node"));

async function main() {
  const [model, threads, prefill, context, tokens, repeats] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    executionMode: "sequential", graphOptimizationLevel: "all",
  });
  const pastNames = session.inputNames.filter((n) => n.startsWith("past_key_values"));
  let heads = 12, headDim = 64;
  if (process.env.GPT2_HEADS) heads = Number(process.env.GPT2_HEADS);
  if (process.env.GPT2_HEAD_DIM) headDim = Number(process.env.GPT2_HEAD_DIM);
  const ids = (n, seed) => {
    const a = new BigInt64Array(n);
    for (let i = 0; i < n; ++i) a[i] = BigInt((seed * 7919 + i * 104729) % 50257);
    return new ort.Tensor("int64", a, [1, n]);
  };
  const emptyPast = () => {
    const feeds = {};
    for (const n of pastNames) feeds[n] = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, headDim]);
    return feeds;
  };
  const run = async (inputIds, past) => session.run({ input_ids: inputIds, ...past });
  const presentToPast = (out) => {
    const feeds = {};
    for (const n of pastNames) feeds[n] = out[n.replace("past_key_values", "present")];
    return feeds;
  };
  const prefillTimes = [], decodeTimes = [];
  for (let r = 0; r <= Number(repeats); ++r) {
    let t0 = process.hrtime.bigint();
    await run(ids(Number(prefill), r), emptyPast());
    const t1 = process.hrtime.bigint();
    if (r > 0) prefillTimes.push(Number(t1 - t0) / 1e9);
    // Decode: fill the cache to `context` tokens, then time single tokens.
    let out = await run(ids(Number(context), r + 1), emptyPast());
    for (let i = 0; i < Number(tokens); ++i) {
      t0 = process.hrtime.bigint();
      out = await run(ids(1, i), presentToPast(out));
      if (r > 0) decodeTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  console.log(JSON.stringify({ prefill_s: prefillTimes, decode_s: decodeTimes }));
}
main().catch((e) => { console.error(e); process.exit(1); });
