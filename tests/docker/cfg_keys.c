/* Prints every configuration key, one a line: the key table as the binaries
 * have it, for tests/docker/check_compose.sh; with --defaults, each key's
 * type and default too ("NAME<TAB>TYPE<TAB>DEFAULT"), for
 * tests/docs/check_config_table.py. */
#include <stdio.h>
#include <string.h>

#include "warren/cfg.h"

int main(int argc, char **argv)
{
    int defaults = argc == 2 && strcmp(argv[1], "--defaults") == 0;
    for (const struct wr_cfg_key *k = wr_cfg_keys(); k->name != NULL; k++)
        if ((defaults ? printf("%s\t%s\t%s\n", k->name, k->type, k->def)
                      : printf("%s\n", k->name)) < 0)
            return 1;
    return 0;
}
