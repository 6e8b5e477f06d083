/*
 * test_bench_target.c — bench's protocol registry (BENCH_PROTOCOLS: a
 * scheme or an alias finds its driver) and target URLs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "bench/bench.h"

Test(bench_target, proto_find)
{
    cr_assert_eq(bench_proto_find("http", 4), &bench_http_proto);
    cr_assert_eq(bench_proto_find("HTTP", 4), &bench_http_proto);
    cr_assert_eq(bench_proto_find("redis", 5), &bench_redis_proto);
    cr_assert_eq(bench_proto_find("resp", 4), &bench_redis_proto);
    cr_assert_null(bench_proto_find("https", 5));
    cr_assert_null(bench_proto_find("res", 3));
    cr_assert_null(bench_proto_find("", 0));
    for (int i = 0; bench_protos[i]; i++)
        cr_assert_eq(bench_proto_find(bench_protos[i]->scheme, strlen(bench_protos[i]->scheme)), bench_protos[i]);
}

Test(bench_target, urls)
{
    struct bench_target t;
    char err[256];
    cr_assert_eq(bench_target_parse(&t, "resp://127.0.0.1:7001", err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.proto, &bench_redis_proto);
    cr_assert_eq(t.port, 7001);
    cr_assert_eq(bench_target_parse(&t, "http://127.0.0.1:8080/x", err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.proto, &bench_http_proto);
    cr_assert_str_eq(t.path, "/x");
    cr_assert_eq(bench_target_parse(&t, "https://127.0.0.1/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'https://127.0.0.1/': https is not supported (plain HTTP/1.1 and RESP only)");
    cr_assert_eq(bench_target_parse(&t, "ftp://127.0.0.1/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'ftp://127.0.0.1/': the target must start with http:// or redis://");
}

Test(bench_target, url_forms_and_errors)
{
    struct bench_target t;
    char err[256];
    cr_assert_eq(bench_target_parse(&t, "redis://127.0.0.1", err, sizeof err), 0, "%s", err);
    cr_assert_eq(t.port, 6379); /* the protocol's default */
    cr_assert_eq(bench_target_parse(&t, "http://[::1]:8081?q=1#frag", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.host, "::1");
    cr_assert_eq(t.port, 8081);
    cr_assert_str_eq(t.hostport, "[::1]:8081");
    cr_assert_str_eq(t.path, "/?q=1");
    cr_assert_eq(bench_target_parse(&t, "http://127.0.0.1:8080#x", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(t.path, "/");
    cr_assert_eq(bench_target_parse(&t, "http://u:p@127.0.0.1/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http://u:p@127.0.0.1/': credentials in the URL are not supported");
    cr_assert_eq(bench_target_parse(&t, "http://127.0.0.1:0/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http://127.0.0.1:0/': bad port");
    cr_assert_eq(bench_target_parse(&t, "http://[::1:80/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http://[::1:80/': bad IPv6 address");
    cr_assert_eq(bench_target_parse(&t, "http:///x", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http:///x': missing or too long host");
    cr_assert_eq(bench_target_parse(&t, "http://:80/", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http://:80/': missing host");
    cr_assert_eq(bench_target_parse(&t, "http://127.0.0.1/a b", err, sizeof err), -1);
    cr_assert_str_eq(err, "'http://127.0.0.1/a b': the path has a space or a byte that must be %-encoded");
    cr_assert_eq(bench_target_parse(&t, "", err, sizeof err), -1);
    cr_assert_str_eq(err, "no target: give a URL like http://127.0.0.1:8080/ or redis://127.0.0.1:6379");
}
