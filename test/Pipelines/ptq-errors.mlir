// qopt-ptq refuses bad recipes and missing calibration data before running
// anything.
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3})' 2>&1 | FileCheck %s --check-prefix=RECIPE
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-static})' 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8 outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIER
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIERDATA
// RECIPE: qopt-ptq: unknown recipe 'w3' (w8, w8a8-static, w8a8-dynamic, w4, w4-g32, w4-g64, w4-g128, w4a8, w4a8-g32, w4a8-g128, fp16, bf16, fp8-e4m3, fp8-e5m2)
// NODATA: qopt-ptq: recipe 'w8a8-static' calibrates: give calibration-data=<text> or calibration-tokens=<file>
// OUTLIER: qopt-ptq: outlier-threshold needs a recipe with quantized activations and 8-bit weights (w8a8-static, w8a8-dynamic)
// OUTLIERDATA: qopt-ptq: recipe 'w8a8-dynamic' with outlier-threshold calibrates: give calibration-data=<text> or calibration-tokens=<file>
func.func @f() {
  return
}
