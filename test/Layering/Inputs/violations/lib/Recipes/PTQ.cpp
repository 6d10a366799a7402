// The recipe library.
