/* What `warren` prints for a reply (see output.h): raw bytes for programs,
 * tables for people, one error line on stderr either way, and an exit
 * status a script can branch on. */
#include "output.h"

#include <jansson.h>
#include <string.h>

#include "table.h"

int cli_exit_code(int status)
{
    switch (status / 100) {
    case 2:
        return CLI_EXIT_OK;
    case 4:
        return CLI_EXIT_4XX;
    case 5:
        return CLI_EXIT_5XX;
    default:
        return CLI_EXIT_OTHER;
    }
}

/* The value of parameter name in the query of the n bytes of url. */
static bool query_param(const char *url, size_t n, const char *name, const char **value,
                        size_t *len)
{
    const char *q = memchr(url, '?', n);
    const char *end = url + n;
    size_t nl = strlen(name);
    for (const char *p = q; p != NULL && p < end;) {
        p++; /* past '?' or '&' */
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            *value = p + nl + 1;
            *len = (size_t)(stop - *value);
            return true;
        }
        p = amp;
    }
    return false;
}

bool cli_next_hint(const char *link, struct wr_buf *out)
{
    const char *rel = link != NULL ? strstr(link, ">; rel=\"next\"") : NULL;
    const char *start = rel;
    while (start != NULL && start > link && *start != '<')
        start--;
    if (start == NULL || *start != '<')
        return false;
    const char *url = start + 1, *value = NULL;
    size_t n = (size_t)(rel - url), len = 0;
    const char *option = NULL;
    if (query_param(url, n, "after", &value, &len))
        option = "--after";
    else if (query_param(url, n, "page", &value, &len))
        option = "--page";
    if (option == NULL || len == 0)
        return false;
    (void)wr_buf_printf(out, "next: %s ", option);
    cli_put_text(out, value, len);
    (void)wr_buf_putc(out, '\n');
    return true;
}

/* `warren: 404 not_found: no such object`, then validation_errors. */
static void error_lines(const struct cli_reply *r, struct wr_buf *err)
{
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "code"));
    const char *message = json_string_value(json_object_get(j, "message"));
    (void)wr_buf_printf(err, "warren: %d", r->status);
    if (code != NULL) {
        (void)wr_buf_putc(err, ' ');
        cli_put_text(err, code, strlen(code));
    }
    if (message != NULL) {
        (void)wr_buf_puts(err, ": ");
        cli_put_text(err, message, strlen(message));
    }
    (void)wr_buf_putc(err, '\n');
    json_t *errors = json_object_get(j, "validation_errors");
    if (json_is_object(errors)) {
        struct wr_buf text;
        wr_buf_init(&text, (size_t)1 << 20);
        char *dump = json_dumps(errors, JSON_COMPACT | JSON_SORT_KEYS);
        if (dump != NULL && cli_table_render(dump, strlen(dump), &text) == 0) {
            for (const char *p = text.data; p != NULL && *p != '\0';) {
                const char *nl = strchr(p, '\n');
                size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
                (void)wr_buf_puts(err, "  ");
                (void)wr_buf_append(err, p, n);
                p += n;
            }
        }
        free(dump);
        wr_buf_release(&text);
    }
    json_decref(j);
}

int cli_output(const struct cli_reply *r, bool table, struct wr_buf *out, struct wr_buf *err)
{
    int code = cli_exit_code(r->status);
    if (code != CLI_EXIT_OK)
        error_lines(r, err);
    if (r->status == 204)
        return code;
    if (!table || code != CLI_EXIT_OK || cli_table_render(r->body, r->len, out) != 0) {
        if (table && code != CLI_EXIT_OK)
            return code; /* the error line says it */
        (void)wr_buf_append(out, r->body, r->len);
        return code;
    }
    (void)cli_next_hint(r->link, out);
    return code;
}
