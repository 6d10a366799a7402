"""Writes a function that takes the same provable slice of its input N times."""
import sys

n = int(sys.argv[1])
print("func.func @main(%x: tensor<?xf32>) -> tensor<?xf32> {")
print("  %c0 = arith.constant 0 : index")
print("  %d = tensor.dim %x, %c0 : tensor<?xf32>")
print("  %h = affine.apply affine_map<()[s0] -> (s0 floordiv 2)>()[%d]")
for i in range(n):
    print(f"  %s{i} = tensor.extract_slice %x[0] [%h] [1] : tensor<?xf32> to tensor<?xf32>")
print(f"  return %s{n - 1} : tensor<?xf32>")
print("}")
