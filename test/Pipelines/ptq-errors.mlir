// qopt-ptq refuses bad recipes and missing calibration data before running
// anything, and builds the passes a recipe's options need.
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3})' 2>&1 | FileCheck %s --check-prefix=RECIPE
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-static})' 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8 outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIER
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIERDATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4-g128 smooth=true})' 2>&1 | FileCheck %s --check-prefix=SMOOTH
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic smooth=true})' 2>&1 | FileCheck %s --check-prefix=SMOOTHDATA
// Smoothing changes the ranges static activations were calibrated with:
// calibrate, smooth (float-activation layers too: their weight rows gain
// precision where activations are large), calibrate again.
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-static smooth=true float-activations=lm_head calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=SMOOTHSTATIC
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic smooth=true smooth-alpha=0.8 calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=SMOOTHDYNAMIC
// RECIPE: qopt-ptq: unknown recipe 'w3' (w8, w8a8-static, w8a8-dynamic, w4, w4-g32, w4-g64, w4-g128, w4a8, w4a8-g32, w4a8-g128, fp16, bf16, fp8-e4m3, fp8-e5m2)
// NODATA: qopt-ptq: recipe 'w8a8-static' calibrates: give calibration-data=<text> or calibration-tokens=<file>
// OUTLIER: qopt-ptq: outlier-threshold needs a recipe with quantized activations and 8-bit weights (w8a8-static, w8a8-dynamic)
// OUTLIERDATA: qopt-ptq: recipe 'w8a8-dynamic' with outlier-threshold calibrates: give calibration-data=<text> or calibration-tokens=<file>
// SMOOTH: qopt-ptq: smooth needs a recipe with quantized activations (w8a8-static, w8a8-dynamic, w4a8, w4a8-g32, w4a8-g128)
// SMOOTHDATA: qopt-ptq: recipe 'w8a8-dynamic' with smooth calibrates: give calibration-data=<text> or calibration-tokens=<file>
// SMOOTHSTATIC: qopt-insert-observers
// SMOOTHSTATIC-NEXT: qopt-calibrate{{.*}}data=unused
// SMOOTHSTATIC-NEXT: qopt-smooth-activations{alpha=5.000000e-01 skip=}
// SMOOTHSTATIC-NEXT: qopt-calibrate{{.*}}data=unused
// SMOOTHSTATIC-NEXT: qopt-quantize{{.*}}activations=static float-activations=lm_head
// SMOOTHDYNAMIC: qopt-insert-observers
// SMOOTHDYNAMIC-NEXT: qopt-calibrate{{.*}}data=unused
// SMOOTHDYNAMIC-NEXT: qopt-smooth-activations{alpha=8.000000e-01 skip=}
// SMOOTHDYNAMIC-NEXT: qopt-quantize{{.*}}activations=dynamic
func.func @f() {
  return
}
