// qopt-gptq{sequential=false}: every observed linear layer becomes a
// qopt.qmatmul whose codes are GPTQ's, from the Hessian H = 2/N x^T x of
// the #qopt.stats attached to its input (N = samples = 8, so H = x^T x / 4).
//
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4" | FileCheck %s --check-prefix=CH4
// RUN: quant-opt %s -qopt-quantize="weight-bits=4" | FileCheck %s --check-prefix=RTN4
// Lazy batches change nothing but the order of the updates:
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 block-size=1" | FileCheck %s --check-prefix=CH4
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 block-size=3" | FileCheck %s --check-prefix=CH4
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=2 act-order=true" | FileCheck %s --check-prefix=G2ACT
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=2 act-order=true block-size=3" | FileCheck %s --check-prefix=G2ACT
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=4 act-order=true" | FileCheck %s --check-prefix=G4ACT
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=2 act-order=true static-groups=true" | FileCheck %s --check-prefix=STATIC
// RUN: quant-opt %s -qopt-quantize="weight-bits=4 weight-granularity=group group-size=2" | FileCheck %s --check-prefix=RTNG2
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=3" | FileCheck %s --check-prefix=B3
// RUN: quant-opt %s -qopt-quantize="weight-bits=3" | FileCheck %s --check-prefix=RTN3
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-symmetric=false" | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %s -qopt-quantize="weight-bits=4 weight-symmetric=false" | FileCheck %s --check-prefix=RTNASYM
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=2 act-order=true int8-weights=^head$" | FileCheck %s --check-prefix=INT8
// RUN: quant-opt %s -qopt-quantize="weight-bits=8" | FileCheck %s --check-prefix=RTN8
// RUN: quant-opt %s -qopt-gptq="sequential=false weight-bits=4" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PROGRESS
// RUN: rm -rf %t && mkdir -p %t
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 report=%t/report.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t/report.json
// RUN: FileCheck %s --check-prefix=MD < %t/report.md
//
// Every code, scale, zero point and group index below was checked against
// the NumPy reference test/Dialect/QOpt/Utils/Inputs/gptq_reference.py
// (gptq(W, x^T x / 4, ...)); the reported errors too. No quotient is
// within 0.006 of a rounding tie.
//
// W (both layers of @two_layers, and of @dead_and_damped):
//   [[0.9 -1.3] [0.35 2.1] [-1.7 0.45] [1.2 -0.8]
//    [-0.25 1.6] [2.3 -0.6] [-0.55 -1.9] [0.7 0.15]]
// x^T x has strong off-diagonal terms and H_jj = 8 117 7 32 8 12 32 7: act
// order is channels 1 3 6 5 0 4 2 7.

// 4-bit per channel: the scales are RTN's (max |w| / 7 per column), the
// codes are not. Codes by row (4-bit, low nibble = column 0):
//   GPTQ [3 -4] [1 7] [-5 1] [4 -3] [-1 6] [7 -2] [-2 -6] [3 0]
//   RTN  [3 -4] [1 7] [-5 2] [4 -3] [-1 5] [7 -2] [-2 -6] [2 1]
// CH4-LABEL: func.func @two_layers
// CH4-NOT: linalg.matmul
// CH4: %[[W:.*]] = arith.constant dense_resource<[[FC:qweight[_0-9]*]]> : tensor<8x1xi8>
// CH4: qopt.qmatmul %arg0, %[[W]] weight !quant.uniform<i4<-7:7>:f32:1, {0.32857140898704529,0.29999998211860657}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// CH4: %[[W2:.*]] = arith.constant dense_resource<[[HEAD:qweight[_0-9]*]]> : tensor<8x1xi8>
// CH4: qopt.qmatmul %arg1, %[[W2]] weight !quant.uniform<i4<-7:7>:f32:1, {0.32857140898704529,0.29999998211860657}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// CH4-NOT: qopt.observe
// CH4-NOT: linalg.matmul
// CH4: return
// The dead channel 3 (a zero row and column in x^T x: never active) is
// rounded to 0, the other codes are those of fc (row 3 of H has no
// off-diagonal terms left). The indefinite x^T x of "damped" (entry
// [0, 1] = 40 > sqrt(8 * 117)) needs the damping doubled six times (0.64);
// its codes are then RTN's but for row 7.
// CH4-LABEL: func.func @dead_and_damped
// CH4: dense_resource<[[DEAD:qweight[_0-9]*]]> : tensor<8x1xi8>
// CH4: qopt.qmatmul %arg0, {{.*}} weight !quant.uniform<i4<-7:7>:f32:1, {0.32857140898704529,0.29999998211860657}>
// CH4: dense_resource<[[DAMPED:qweight[_0-9]*]]> : tensor<8x1xi8>
// CH4: qopt.qmatmul %arg1, {{.*}} weight !quant.uniform<i4<-7:7>:f32:1, {0.32857140898704529,0.29999998211860657}>
// CH4-DAG: [[FC]]: "0x08000000C3711BD46FE7AE03"
// CH4-DAG: [[HEAD]]: "0x08000000C3711BD46FE7AE03"
// CH4-DAG: [[DEAD]]: "0x08000000C3711B006FE7AE03"
// CH4-DAG: [[DAMPED]]: "0x08000000C3711BD45FE7AE12"
// RTN4-LABEL: func.func @two_layers
// RTN4: qopt.qmatmul %arg0, {{.*}} weight !quant.uniform<i4<-7:7>:f32:1, {0.32857140898704529,0.29999998211860657}>
// RTN4: qweight: "0x08000000C3712BD45FE7AE12"

// Groups of 2 with act-order: each group is a pair of channels in act
// order ({1, 3}, {6, 5}, {0, 4}, {2, 7}), its scales taken from the rows
// as updated when the group starts, and the op carries the group index.
// GPTQ [7 -6] [2 7] [-7 7] [7 -3] [-2 7] [7 -2] [-2 -7] [3 2];
// RTN on the contiguous groups (RTNG2) [7 -4] [3 7] [-7 4] [5 -7] [-1 7]
// [7 -3] [-6 -7] [7 1].
// G2ACT-LABEL: func.func @two_layers
// G2ACT: %[[W:.*]] = arith.constant dense_resource<[[FC:qweight[_0-9]*]]> : tensor<8x1xi8>
// G2ACT: %[[G:.*]] = arith.constant dense_resource<[[FCG:group_index[_0-9]*]]> : tensor<8xi32>
// G2ACT: qopt.qmatmul %arg0, %[[W]] group_index %[[G]] weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{[{][{]}}0.171428576, 0.299999982}, {0.328958124, 0.268865615}, {0.148540378, 0.224012017}, {0.23841396, 0.0781900734{{[}][}]}}> : tensor<?x8xf32>, tensor<8x1xi8>, tensor<8xi32> -> tensor<?x2xf32>
// With the dead channel last in act order (H_jj = 1 after the fix-up) but
// for channels 2 and 7: groups {1, 6}, {5, 0}, {4, 2}, {7, 3}; row 3 is 0.
// G2ACT-LABEL: func.func @dead_and_damped
// G2ACT: dense_resource<[[DEAD:qweight[_0-9]*]]> : tensor<8x1xi8>
// G2ACT: dense_resource<[[DEADG:group_index[_0-9]*]]> : tensor<8xi32>
// G2ACT: qopt.qmatmul %arg0, %{{.*}} group_index %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{[{][{]}}0.0785714313, 0.299999982}, {0.324844897, 0.201506227}, {0.241670266, 0.23630701}, {0.109781869, 0.00440434134{{[}][}]}}>
// G2ACT-DAG: [[FC]]: "0x08000000A77279D77EE79E23"
// G2ACT-DAG: [[FCG]]: "0x080000000200000000000000030000000000000002000000010000000100000003000000"
// G2ACT-DAG: [[DEAD]]: "0x08000000937429007FD7A977"
// G2ACT-DAG: [[DEADG]]: "0x080000000100000000000000020000000300000002000000010000000000000003000000"
// RTNG2-LABEL: func.func @two_layers
// RTNG2: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{[{][{]}}0.128571421, 0.299999982}, {0.242857143, 0.114285715}, {0.328571409, 0.22857143}, {1.000000e-01, 0.271428555{{[}][}]}}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// RTNG2: qweight: "0x08000000C77349957FD79A17"

// Groups of 4 with act-order: {1, 3, 6, 5} and {0, 4, 2, 7}.
// G4ACT-LABEL: func.func @two_layers
// G4ACT: qopt.qmatmul %arg0, %{{.*}} group_index %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:4, 1:1}, {{[{][{]}}0.328571409, 0.299999982}, {0.249595329, 0.235012516{{[}][}]}}> : tensor<?x8xf32>, tensor<8x1xi8>, tensor<8xi32> -> tensor<?x2xf32>
// G4ACT: qweight: "0x08000000A47129D47FE7AE03",
// G4ACT-NEXT: group_index: "0x080000000100000000000000010000000000000001000000000000000000000001000000",

// static-groups: the scales of the contiguous groups, fixed before
// rounding (RTN's, see RTNG2), no group index; rounding still in act
// order, so the codes differ from RTN's in rows 0, 6 and 7.
// STATIC-LABEL: func.func @two_layers
// STATIC-NOT: group_index
// STATIC: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{[{][{]}}0.128571421, 0.299999982}, {0.242857143, 0.114285715}, {0.328571409, 0.22857143}, {1.000000e-01, 0.271428555{{[}][}]}}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// STATIC-NOT: group_index
// STATIC: qweight: "0x08000000C67349957FD79B16"

// 3 bits: codes in [-3, 3] in the 4-bit container; GPTQ's row 7 is [2 1],
// RTN's [1 0].
// B3-LABEL: func.func @two_layers
// B3: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-3:3>:f32:1, {0.76666665077209473,0.69999998807907104}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// B3: qweight: "0x08000000E1301EF220F3DF12"
// RTN3: qweight: "0x08000000E1301EF220F3DF01"

// Asymmetric: u4 with zero points 6 and 7; rows 3 and 7 differ from RTN.
// ASYM-LABEL: func.func @two_layers
// ASYM: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<u4:f32:1, {0.26666668057441711:6,0.26666665077209473:7}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
// ASYM: qweight: "0x0800000029F7904BD55F0479"
// RTNASYM: qweight: "0x0800000029F7904AD55F0489"

// int8-weights=^head$: head gets INT8 per-channel weights (GPTQ in act
// order, no group index), fc keeps the group scheme (as in G2ACT).
// GPTQ [51 -79] [19 127] [-93 27] [66 -48] [-14 97] [127 -36] [-31 -115]
// [40 9]; RTN [50 -79] [19 127] [-94 27] [66 -48] [-14 97] [127 -36]
// [-30 -115] [39 9].
// INT8-LABEL: func.func @two_layers
// INT8: qopt.qmatmul %arg0, %{{.*}} group_index
// INT8: %[[H:.*]] = arith.constant dense_resource<[[HEAD:qweight[_0-9]*]]> : tensor<8x2xi8>
// INT8-NEXT: qopt.qmatmul %arg1, %[[H]] weight !quant.uniform<i8<-127:127>:f32:1, {0.018110236153006554,0.016535433009266853}> : tensor<?x8xf32>, tensor<8x2xi8> -> tensor<?x2xf32>
// INT8-DAG: qweight: "0x08000000A77279D77EE79E23"
// INT8-DAG: group_index: "0x080000000200000000000000030000000000000002000000010000000100000003000000"
// INT8-DAG: [[HEAD]]: "0x0800000033B1137FA31B42D0F2617FDCE18D2809"
// RTN8-LABEL: func.func @two_layers
// RTN8: qweight_1: "0x0800000032B1137FA21B42D0F2617FDCE28D2709"

// Progress on stderr, one line per layer: GPTQ's and RTN's
// Hessian-weighted errors and the damping used.
// PROGRESS: qopt-gptq: stage 0 layer 'fc' [8 x 2] 4-bit: ||W-Q||_H 0.236 (RTN 0.335, x0.70), damp 0.01,
// PROGRESS: qopt-gptq: stage 0 layer 'head' [8 x 2] 4-bit: ||W-Q||_H 0.236 (RTN 0.335, x0.70), damp 0.01,
// PROGRESS: qopt-gptq: stage 0 layer 'dead' [8 x 2] 4-bit: ||W-Q||_H 0.165 (RTN 0.429, x0.38), damp 0.01,
// PROGRESS: qopt-gptq: stage 0 layer 'damped' [8 x 2] 4-bit: ||W-Q||_H 0.319 (RTN 0.312, x1.02), damp 0.64,
// PROGRESS: qopt-gptq: 4 layers in

// The report: per layer, errors as in NumPy (sum_n d_n^T H d_n and sum
// d^2, d = W - dequantize(Q), for GPTQ and RTN), damping, dead channels.
// JSON: "act_order": false,
// JSON: "block_size": 128,
// JSON: "damp": 0.01,
// JSON: "layers": [
// JSON: "bits": 4,
// JSON-NEXT: "damp": 0.01,
// JSON-NEXT: "dead_channels": 0,
// JSON-NEXT: "error_f": 0.238418
// JSON-NEXT: "error_h": 0.235981
// JSON-NEXT: "group_index": false,
// JSON-NEXT: "k": 8,
// JSON-NEXT: "layer": "fc",
// JSON-NEXT: "n": 2,
// JSON-NEXT: "rtn_error_f": 0.128622
// JSON-NEXT: "rtn_error_h": 0.334910
// JSON: "layer": "head",
// JSON: "dead_channels": 1,
// JSON-NEXT: "error_f": 2.29535
// JSON-NEXT: "error_h": 0.165165
// JSON: "layer": "dead",
// JSON: "rtn_error_h": 0.429196
// JSON: "damp": 0.64
// JSON-NEXT: "dead_channels": 0,
// JSON-NEXT: "error_f": 0.128622
// JSON-NEXT: "error_h": 0.319451
// JSON: "layer": "damped",
// JSON: "rtn_error_h": 0.311951
// JSON: "layers_quantized": 4,
// JSON: "sequential": false,
// JSON: "static_groups": false
// MD: | layer | K x N | bits | stage |
// MD: | fc | 8 x 2 | 4 | 0 | 0.236 | 0.3349 | 0.705 | 0.2384 | 0.1286 | 0.01 | 0 |
// MD: | head | 8 x 2 | 4 | 0 |
// MD: | dead | 8 x 2 | 4 | 0 | 0.1652 | 0.4292 | 0.385 | 2.295 | 0.1286 | 0.01 | 1 |
// MD: | damped | 8 x 2 | 4 | 0 | 0.3195 | 0.312 | 1.024 | 0.1286 | 0.1286 | 0.64 | 0 |

func.func @two_layers(%x: tensor<?x8xf32>, %x2: tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[0.9, -1.3], [0.35, 2.1], [-1.7, 0.45], [1.2, -0.8], [-0.25, 1.6], [2.3, -0.6], [-0.55, -1.9], [0.7, 0.15]]> : tensor<8x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 8, min = -3.0, max = 3.0, xtx = dense<[[8.0, 15.0, 4.0, 8.0, 3.0, 4.0, 12.0, 2.0], [15.0, 117.0, 12.0, 24.0, 18.0, 6.0, 12.0, 18.0], [4.0, 12.0, 7.0, 8.0, 4.0, 4.0, 6.0, 1.0], [8.0, 24.0, 8.0, 32.0, 6.0, 8.0, 16.0, 4.0], [3.0, 18.0, 4.0, 6.0, 8.0, 5.0, 6.0, 5.0], [4.0, 6.0, 4.0, 8.0, 5.0, 12.0, 10.0, 2.0], [12.0, 12.0, 6.0, 16.0, 6.0, 10.0, 32.0, 8.0], [2.0, 18.0, 1.0, 4.0, 5.0, 2.0, 8.0, 7.0]]> : tensor<8x8xf32>>} : tensor<?x8xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<8x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  %x2o = qopt.observe %x2 activation "head:input" {stats = #qopt.stats<method = "minmax", samples = 8, min = -3.0, max = 3.0, xtx = dense<[[8.0, 15.0, 4.0, 8.0, 3.0, 4.0, 12.0, 2.0], [15.0, 117.0, 12.0, 24.0, 18.0, 6.0, 12.0, 18.0], [4.0, 12.0, 7.0, 8.0, 4.0, 4.0, 6.0, 1.0], [8.0, 24.0, 8.0, 32.0, 6.0, 8.0, 16.0, 4.0], [3.0, 18.0, 4.0, 6.0, 8.0, 5.0, 6.0, 5.0], [4.0, 6.0, 4.0, 8.0, 5.0, 12.0, 10.0, 2.0], [12.0, 12.0, 6.0, 16.0, 6.0, 10.0, 32.0, 8.0], [2.0, 18.0, 1.0, 4.0, 5.0, 2.0, 8.0, 7.0]]> : tensor<8x8xf32>>} : tensor<?x8xf32>
  %w2o = qopt.observe %w weight "head:weight" : tensor<8x2xf32>
  %y2 = linalg.matmul ins(%x2o, %w2o : tensor<?x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y, %y2 : tensor<?x2xf32>, tensor<?x2xf32>
}

func.func @dead_and_damped(%x: tensor<?x8xf32>, %x2: tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[0.9, -1.3], [0.35, 2.1], [-1.7, 0.45], [1.2, -0.8], [-0.25, 1.6], [2.3, -0.6], [-0.55, -1.9], [0.7, 0.15]]> : tensor<8x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %xo = qopt.observe %x activation "dead:input" {stats = #qopt.stats<method = "minmax", samples = 8, min = -3.0, max = 3.0, xtx = dense<[[8.0, 15.0, 4.0, 0.0, 3.0, 4.0, 12.0, 2.0], [15.0, 117.0, 12.0, 0.0, 18.0, 6.0, 12.0, 18.0], [4.0, 12.0, 7.0, 0.0, 4.0, 4.0, 6.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [3.0, 18.0, 4.0, 0.0, 8.0, 5.0, 6.0, 5.0], [4.0, 6.0, 4.0, 0.0, 5.0, 12.0, 10.0, 2.0], [12.0, 12.0, 6.0, 0.0, 6.0, 10.0, 32.0, 8.0], [2.0, 18.0, 1.0, 0.0, 5.0, 2.0, 8.0, 7.0]]> : tensor<8x8xf32>>} : tensor<?x8xf32>
  %wo = qopt.observe %w weight "dead:weight" : tensor<8x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  %x2o = qopt.observe %x2 activation "damped:input" {stats = #qopt.stats<method = "minmax", samples = 8, min = -3.0, max = 3.0, xtx = dense<[[8.0, 40.0, 4.0, 8.0, 3.0, 4.0, 12.0, 2.0], [40.0, 117.0, 12.0, 24.0, 18.0, 6.0, 12.0, 18.0], [4.0, 12.0, 7.0, 8.0, 4.0, 4.0, 6.0, 1.0], [8.0, 24.0, 8.0, 32.0, 6.0, 8.0, 16.0, 4.0], [3.0, 18.0, 4.0, 6.0, 8.0, 5.0, 6.0, 5.0], [4.0, 6.0, 4.0, 8.0, 5.0, 12.0, 10.0, 2.0], [12.0, 12.0, 6.0, 16.0, 6.0, 10.0, 32.0, 8.0], [2.0, 18.0, 1.0, 4.0, 5.0, 2.0, 8.0, 7.0]]> : tensor<8x8xf32>>} : tensor<?x8xf32>
  %w2o = qopt.observe %w weight "damped:weight" : tensor<8x2xf32>
  %y2 = linalg.matmul ins(%x2o, %w2o : tensor<?x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y, %y2 : tensor<?x2xf32>, tensor<?x2xf32>
}
