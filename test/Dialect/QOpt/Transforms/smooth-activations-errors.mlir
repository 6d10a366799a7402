// RUN: quant-opt %s -qopt-smooth-activations=alpha=1.5 -verify-diagnostics

// expected-error @below {{qopt-smooth-activations: alpha must be in [0, 1], got 1.5}}
module {
}
