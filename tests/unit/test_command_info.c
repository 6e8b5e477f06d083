/*
 * test_command_info.c — proto/commands_info.c stays in step with the command
 * table: one subcommand row per resp_subcmds row, in its order and under its
 * name; every command and subcommand is @fast or @slow (never both), as in
 * Redis; the key flags of SET and BITFIELD follow their arguments.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "proto/commands.h"
#include "proto/resp.h"

Test(command_info, subcommand_rows_match_the_table)
{
    cr_assert_eq(resp_subcmd_info_count, resp_subcmd_count);
    for (int i = 0; i < resp_subcmd_count; i++) {
        char want[96];
        snprintf(want, sizeof want, "%s|%s", resp_cmds[resp_subcmds[i].parent].name, resp_subcmds[i].name);
        cr_assert_str_eq(resp_subcmd_infos[i].fullname, want, "row %d", i);
    }
}

Test(command_info, fast_or_slow)
{
    uint32_t fs = RESP_ACL_FAST | RESP_ACL_SLOW;
    for (int id = 0; id < RESP_CMD_COUNT; id++) {
        uint32_t c = resp_cmd_infos[id].cats & fs;
        cr_assert(c == RESP_ACL_FAST || c == RESP_ACL_SLOW, "%s", resp_cmds[id].name);
    }
    for (int i = 0; i < resp_subcmd_count; i++) {
        uint32_t c = resp_subcmd_infos[i].info.cats & fs;
        cr_assert(c == RESP_ACL_FAST || c == RESP_ACL_SLOW, "%s", resp_subcmd_infos[i].fullname);
    }
    cr_assert_str_eq(resp_acl_cat_names[0], "keyspace");
    cr_assert_str_eq(resp_acl_cat_names[RESP_ACL_NCATS - 1], "scripting");
}

static struct resp_arg arg(const char *s) { return (struct resp_arg){.ptr = s, .len = strlen(s)}; }

Test(command_info, variable_key_flags)
{
    struct resp_arg set[] = {arg("SET"), arg("k"), arg("v"), arg("GET")};
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_SET, 3, set, 1), RESP_KEY_OW | RESP_KEY_UPDATE);
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_SET, 4, set, 1), RESP_KEY_RW | RESP_KEY_ACCESS | RESP_KEY_UPDATE);
    struct resp_arg bf[] = {arg("BITFIELD"), arg("k"), arg("get"), arg("u8"), arg("0"), arg("SET"), arg("u8"),
                            arg("0"), arg("1")};
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_BITFIELD, 5, bf, 1), RESP_KEY_RO | RESP_KEY_ACCESS);
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_BITFIELD, 9, bf, 1), RESP_KEY_RW | RESP_KEY_ACCESS | RESP_KEY_UPDATE);
    /* LMOVE: the source is read and emptied, the destination written */
    struct resp_arg lm[] = {arg("LMOVE"), arg("a"), arg("b"), arg("LEFT"), arg("RIGHT")};
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_LMOVE, 5, lm, 1), RESP_KEY_RW | RESP_KEY_ACCESS | RESP_KEY_DELETE);
    cr_assert_eq(resp_cmd_key_flags(RESP_CMD_LMOVE, 5, lm, 2), RESP_KEY_RW | RESP_KEY_INSERT);
}
