#include <stdio.h>

#include "mlgate/version.h"

int main(void)
{
  printf("mlgate %s\n", MLGATE_VERSION);
  return 0;
}
