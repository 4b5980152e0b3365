/* warren-auditlog: the audit trail read back, one request at a time
 * (queue warren.auditlog, op records). The template of a warren service:
 * config, logging, its dependency, its op table, the runtime; copy it and
 * replace records.c. */
#include "records.h"
#include "warren/auditdb.h"
#include "warren/log.h"
#include "warren/proto.h"

static const struct wr_op ops[] = {
    /* MongoDB may keep it waiting: replies before it leave uncorked */
    {.name = WR_OP_RECORDS, .waits = true, .fn = records_op},
};

int main(int argc, char **argv)
{
    static const struct wr_cfg_prog prog = {"warren-auditlog",
                                            "the audit trail read back: the records of one request",
                                            WR_CFG_USE_WORKER};
    struct wr_cfg cfg = {0};
    int rc = 0;
    if (!wr_cfg_from_args(&cfg, &prog, argc, argv, &rc))
        return rc; /* --help, --version, or the problems, printed */
    wr_log_init(WR_SERVICE_AUDITLOG, cfg.log_level);
    (void)wr_log_format_set(cfg.log_format); /* the key table checked the name */
    wr_worker_global_init();
    wr_auditdb *db = NULL; /* none without MONGO_URI: records answers 503 */
    if (cfg.mongo_uri[0] != '\0') {
        struct wr_auditdb_opts o = {.uri = cfg.mongo_uri,
                                    .db = cfg.audit_db,
                                    .collection = cfg.audit_collection,
                                    .appname = "warren-" WR_SERVICE_AUDITLOG};
        struct wr_err err = {0};
        db = wr_auditdb_new(&o, &err);
        if (db == NULL) {
            wr_error(NULL, "cannot read the audit trail: %s", err.msg);
            rc = 2;
        }
    }
    struct wr_service svc = {
        .name = WR_SERVICE_AUDITLOG, .ops = ops, .nops = sizeof(ops) / sizeof(ops[0]), .ctx = db};
    if (rc == 0)
        rc = wr_worker_run(&cfg, &svc);
    wr_auditdb_free(db);
    wr_worker_global_cleanup();
    wr_cfg_release(&cfg);
    return rc;
}
