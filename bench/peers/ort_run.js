// Times ONNX Runtime (npm onnxruntime-node, CPU) on one model and input: two warm-up runs (the
// second is still slow: ESRGAN-medium at 512x512 takes 3.4 s, then 1.4 s), then up to REPEATS runs
// (fewer once BUDGET seconds have gone, at least one). Writes the output as raw float32 and prints
// {"ms": [...], "shape": [...], "load_ms": L, "first_ms": F}: L the session's creation (loading
// the model), F the first run, in this fresh process.
//   NODE_PATH=out/peers/node_modules node ort_run.js MODEL.onnx IN.npy OUT.f32 THREADS REPEATS BUDGET_S
const fs = require('fs');
const ort = require('onnxruntime-node');

// A float32, C-order .npy file (format 1.0, as numpy writes it) as an ort.Tensor.
function readNpy(path) {
  const buf = fs.readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + headerLen);
  if (!header.includes("'descr': '<f4'") || !header.includes("'fortran_order': False")) {
    throw new Error(`${path}: not a float32 C-order .npy: ${header}`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.length));
  return new ort.Tensor('float32', data, shape);
}

async function main() {
  const [model, input, output, threads, repeats, budget] = process.argv.slice(2);
  const feedsData = readNpy(input);
  const loadStart = performance.now();
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - loadStart;
  const feeds = { [session.inputNames[0]]: feedsData };
  const run = async () => (await session.run(feeds))[session.outputNames[0]];
  const firstStart = performance.now();
  let y = await run();
  const firstMs = performance.now() - firstStart;
  y = await run();
  const ms = [];
  const start = performance.now();
  while (ms.length < Number(repeats) && (ms.length === 0 || performance.now() - start < budget * 1000)) {
    const t0 = performance.now();
    y = await run();
    ms.push(performance.now() - t0);
  }
  fs.writeFileSync(output, new Uint8Array(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  console.log(JSON.stringify({ ms, shape: y.dims, load_ms: loadMs, first_ms: firstMs }));
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
