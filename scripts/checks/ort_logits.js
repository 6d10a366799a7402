// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, CPU) on token
// ids and writes its logits, to compare exported models with quant-run's.
//
//   node scripts/checks/ort_logits.js MODEL.onnx IDS.txt OUT.f32
//        [--threads N] [--optimization all|disabled] [--qdq-accuracy-level N]
//
// IDS.txt holds whitespace-separated token ids (what `quant-run MODEL.so
// logits` reads); OUT.f32 gets the raw float32 logits [n, vocab] of batch 1,
// the layout quant-run writes. KV-cache models get an empty past (symbolic
// dims 0, batch 1). --qdq-accuracy-level sets the accuracy level of the
// MatMulNBits that ONNX Runtime fuses from 4-bit blockwise DequantizeLinear
// -> MatMul (session.qdq_matmulnbits_accuracy_level; ORT's default is 4,
// int8 activations, so exact comparisons pass 0). Prints one JSON line.
const fs = require("fs");
const path = require("path");

const npmDir = process.env.QUANTOPT_NPM_DIR ||
  path.join(__dirname, "..", "..", "third_party", "npm", "node_modules");
const ort = require(path.join(npmDir, "onnxruntime-node"));

function parseArgs(argv) {
  const positional = [];
  const options = { threads: 1, optimization: "all", qdqAccuracyLevel: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--threads") options.threads = Number(value());
    else if (a === "--optimization") options.optimization = value();
    else if (a === "--qdq-accuracy-level") options.qdqAccuracyLevel = value();
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 3)
    throw new Error("usage: ort_logits.js MODEL.onnx IDS.txt OUT.f32 [options]");
  return [positional, options];
}

async function main() {
  const [[model, idsPath, outPath], options] = parseArgs(process.argv.slice(2));
  const ids = fs.readFileSync(idsPath, "utf8").split(/\s+/).filter((s) => s.length)
    .map((s) => {
      if (!/^[0-9]+$/.test(s)) throw new Error(`${idsPath}: not a token id: '${s}'`);
      return BigInt(s);
    });
  if (!ids.length) throw new Error(`${idsPath}: no token ids`);
  const sessionOptions = {
    intraOpNumThreads: options.threads, interOpNumThreads: 1,
    executionMode: "sequential", graphOptimizationLevel: options.optimization,
  };
  if (options.qdqAccuracyLevel !== null)
    sessionOptions.extra = { session: { qdq_matmulnbits_accuracy_level: options.qdqAccuracyLevel } };
  const session = await ort.InferenceSession.create(model, sessionOptions);

  const feeds = {};
  for (const meta of session.inputMetadata) {
    if (meta.name === "input_ids") {
      feeds[meta.name] = new ort.Tensor("int64", BigInt64Array.from(ids), [1, ids.length]);
      continue;
    }
    if (!meta.isTensor || meta.type !== "float32")
      throw new Error(`input '${meta.name}': only input_ids and float32 past tensors are fed`);
    // An empty past: batch 1, the other symbolic dims (past length) 0.
    const shape = meta.shape.map((d, i) => (typeof d === "number" ? d : i === 0 ? 1 : 0));
    feeds[meta.name] = new ort.Tensor("float32", new Float32Array(0), shape);
  }
  if (!feeds.input_ids) throw new Error("the model has no 'input_ids' input");
  const outputs = await session.run(feeds, ["logits"]);
  const logits = outputs.logits;
  fs.writeFileSync(outPath, Buffer.from(logits.data.buffer, logits.data.byteOffset,
                                        logits.data.byteLength));
  console.log(JSON.stringify({ model: path.basename(model), tokens: ids.length,
                               logits_shape: logits.dims }));
}

main().catch((e) => {
  console.error(`ort_logits.js: error: ${e.message || e}`);
  process.exit(1);
});
