#include "test_util.h"
int main() { return 77; }
