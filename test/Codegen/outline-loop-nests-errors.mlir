// RUN: quant-opt %s '-qopt-outline-loop-nests=min-ops=0' -verify-diagnostics

// expected-error @+1 {{qopt-outline-loop-nests: min-ops must be at least 1, got 0}}
module {
}
