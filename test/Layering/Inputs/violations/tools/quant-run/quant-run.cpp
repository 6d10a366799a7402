// A tool that compiles the runtime's source (see targets.json).
int main() { return 0; }
