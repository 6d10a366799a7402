// qopt-ptq refuses bad recipes and missing calibration data before running
// anything, and builds the passes a recipe's options need.
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w2})' 2>&1 | FileCheck %s --check-prefix=RECIPE
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-static})' 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8 outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIER
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic outlier-threshold=6})' 2>&1 | FileCheck %s --check-prefix=OUTLIERDATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4-g128 smooth=true})' 2>&1 | FileCheck %s --check-prefix=SMOOTH
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic smooth=true})' 2>&1 | FileCheck %s --check-prefix=SMOOTHDATA
// Smoothing changes the ranges static activations were calibrated with:
// calibrate, smooth (float-activation layers too: their weight rows gain
// precision where activations are large), calibrate again.
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-static smooth=true float-activations=lm_head calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=SMOOTHSTATIC
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic smooth=true smooth-alpha=0.8 calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=SMOOTHDYNAMIC
// smooth-skip reaches the smoothing pass (a tied LM head left unsmoothed keeps
// sharing the embedding table).
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w8a8-dynamic smooth=true smooth-skip=lm_head calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=SMOOTHSKIP
// SMOOTHSKIP: qopt-smooth-activations{alpha=5.000000e-01 skip=lm_head}
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{algorithm=bogus})' 2>&1 | FileCheck %s --check-prefix=ALGORITHM
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4-g128 algorithm=gptq})' 2>&1 | FileCheck %s --check-prefix=GPTQDATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4 algorithm=gptq sequential=false})' 2>&1 | FileCheck %s --check-prefix=GPTQDATA
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=fp16 algorithm=gptq calibration-data=unused})' 2>&1 | FileCheck %s --check-prefix=GPTQFLOAT
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=fp8-e4m3 algorithm=gptq calibration-data=unused})' 2>&1 | FileCheck %s --check-prefix=GPTQFP8
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4 algorithm=gptq fake=true calibration-data=unused})' 2>&1 | FileCheck %s --check-prefix=GPTQFAKE
// ALGORITHM: qopt-ptq: unknown algorithm 'bogus' (rtn, gptq, awq, awq+gptq)
// GPTQDATA: qopt-ptq: algorithm=gptq calibrates: give calibration-data=<text> or calibration-tokens=<file>
// GPTQFLOAT: qopt-ptq: algorithm=gptq works on integer weights; recipe 'fp16' has fp16 weights
// GPTQFP8: qopt-ptq: algorithm=gptq works on integer weights; recipe 'fp8-e4m3' has fp8-e4m3 weights
// GPTQFAKE: qopt-ptq: algorithm=gptq quantizes for real (fake=true is RTN only)
// algorithm=gptq replaces qopt-quantize by qopt-gptq with the recipe's
// scheme and GPTQ's options; by default it calibrates by itself (stage by
// stage), with sequential=false it rounds on the x^T x of the float model,
// which qopt-gptq takes by itself in batches of layers that fit in memory
// (hessian-memory-mb); after AWQ one qopt-calibrate{collect-xtx=true}
// takes them all, as before. (@f has no linear layer: qopt-gptq then
// fails, after the pipeline is printed.)
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4-g128 algorithm=gptq act-order=true calibration-data=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=GPTQSEQ
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3 algorithm=gptq sequential=false damp=0.05 block-size=64 static-groups=true hessian-memory-mb=512 calibration-tokens=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=GPTQXTX
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4 algorithm=awq+gptq sequential=false calibration-tokens=unused})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=AWQXTX
// RUN: not quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w4 algorithm=gptq sequential=false hessian-memory-mb=-1 calibration-tokens=unused})' 2>&1 | FileCheck %s --check-prefix=HESSIANMB
// GPTQSEQ: qopt-insert-observers
// GPTQSEQ-NEXT: qopt-gptq{act-order=true {{.*}} block-size=128 damp=1.000000e-02 data=unused {{.*}} group-size=128 {{.*}} sequential=true static-groups=false {{.*}} weight-bits=4 weight-format=int weight-granularity=group weight-mse-clip=false weight-symmetric=true}
// GPTQSEQ-NOT: qopt-quantize
// GPTQSEQ: error: qopt-gptq: no observed linear layers
// GPTQXTX: qopt-insert-observers
// GPTQXTX-NEXT: qopt-gptq{act-order=false {{.*}} block-size=64 damp=5.000000e-02 {{.*}} hessian-memory-mb=5.120000e+02 {{.*}} sequential=false static-groups=true {{.*}} tokens=unused weight-bits=3 weight-format=int weight-granularity=channel {{.*}}}
// GPTQXTX-NOT: qopt-quantize
// AWQXTX: qopt-insert-observers
// AWQXTX-NEXT: qopt-calibrate{{.*}} collect-xtx=true {{.*}} tokens=unused}
// AWQXTX-NEXT: qopt-awq
// AWQXTX-NEXT: qopt-calibrate{{.*}} collect-xtx=true {{.*}} tokens=unused}
// AWQXTX-NEXT: qopt-gptq{{.*}} sequential=false
// HESSIANMB: qopt-ptq: hessian-memory-mb=-1: must be finite and non-negative
// The 3-bit recipes: codes in [-3, 3] (the 4-bit container), per channel
// or in groups of 64 or 128 input channels.
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=W3
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3-g64})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=W3G64
// RUN: quant-opt %s '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3-g128 symmetric=false})' --dump-pass-pipeline 2>&1 | FileCheck %s --check-prefix=W3G128
// W3: qopt-insert-observers
// W3-NEXT: qopt-quantize{{.*}} activations=none {{.*}} weight-bits=3 weight-format=int weight-granularity=channel weight-mse-clip=false weight-symmetric=true}
// W3G64: qopt-quantize{{.*}} group-size=64 {{.*}} weight-bits=3 weight-format=int weight-granularity=group {{.*}} weight-symmetric=true}
// W3G128: qopt-quantize{{.*}} group-size=128 {{.*}} weight-bits=3 weight-format=int weight-granularity=group {{.*}} weight-symmetric=false}
// RECIPE: qopt-ptq: unknown recipe 'w2' (w8, w8a8-static, w8a8-dynamic, w4, w4-g32, w4-g64, w4-g128, w3, w3-g64, w3-g128, w4a8, w4a8-g32, w4a8-g128, fp16, bf16, fp8-e4m3, fp8-e5m2, auto)
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
