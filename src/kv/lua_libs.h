/*
 * lua_libs.h — the Lua libraries Redis 7.0 builds into its scripting engine
 * and Debian does not package: `cmsgpack` (lua_cmsgpack.c) and `struct`
 * (lua_struct.c), written here against the Lua 5.1 C API to answer as
 * redis-server 7.0 does for every format, size class and error. (`cjson` and
 * `bit` come from Debian's lua-cjson and lua-bitop, see script.c.)
 *
 * Each opener leaves the library table on the stack (one value pushed) and
 * sets the global of the same name, as Redis's luaLoadLib does.
 */
#ifndef SCALEOUT_KV_LUA_LIBS_H
#define SCALEOUT_KV_LUA_LIBS_H

#include <lua.h>

int kv_lua_open_cmsgpack(lua_State *L);
int kv_lua_open_struct(lua_State *L);

#endif
