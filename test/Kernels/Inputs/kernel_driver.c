/* Runs a standalone-compiled `linear(x: [M, K] f32) -> [M, N] f32` (its C
 * interface, llvm.emit_c_interface) on the raw f32 file argv[4], writing
 * the raw f32 result to argv[5]. Usage: driver M K N in.f32 out.f32 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2D;

void _mlir_ciface_linear(MemRef2D *result, MemRef2D *x);

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s M K N in.f32 out.f32\n", argv[0]);
    return 2;
  }
  int64_t m = atoll(argv[1]), k = atoll(argv[2]), n = atoll(argv[3]);
  float *x = malloc(sizeof(float) * m * k);
  FILE *in = fopen(argv[4], "rb");
  if (!in || fread(x, sizeof(float), m * k, in) != (size_t)(m * k)) {
    fprintf(stderr, "cannot read %s\n", argv[4]);
    return 1;
  }
  fclose(in);
  MemRef2D input = {x, x, 0, {m, k}, {k, 1}}, result;
  _mlir_ciface_linear(&result, &input);
  if (result.sizes[0] != m || result.sizes[1] != n) {
    fprintf(stderr, "result is %lldx%lld, expected %lldx%lld\n",
            (long long)result.sizes[0], (long long)result.sizes[1],
            (long long)m, (long long)n);
    return 1;
  }
  FILE *out = fopen(argv[5], "wb");
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      fwrite(&result.aligned[result.offset + i * result.strides[0] +
                             j * result.strides[1]],
             sizeof(float), 1, out);
  fclose(out);
  free(result.allocated);
  free(x);
  return 0;
}
