/* Prints every configuration key, one a line: the key table as the binaries
 * have it, for tests/docker/check_compose.sh. */
#include <stdio.h>

#include "warren/cfg.h"

int main(void)
{
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++)
        if (printf("%s\n", k->name) < 0)
            return 1;
    return 0;
}
