"""the audit head only moves forward; TRUNCATE refused on the audit tables

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00

Migration 0001 made audit_log append-only, but audit_heads stayed writable:
deleting the last records needs the trigger gone, yet the head could be
lowered by any plain UPDATE so the shortened chain looked whole. Now the head
accepts only what the unit of work does (services/core/uow.py): starting at
genesis, and moving forward by exactly the records appended, to the newest
record's hash. PostgreSQL's TRUNCATE fires no row trigger, so it gets a
statement trigger on both tables. Whoever drops these triggers can still
truncate; that is what the witness (`rectify audit head --append`,
`rectify audit verify --witness`) catches.
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

REFUSED = "audit_heads only moves forward, to the newest audit record"
GENESIS = "0" * 64

# true when an UPDATE of the head is not a forward move to the newest record
_NOT_FORWARD = """
       NEW.campaign_id <> OLD.campaign_id OR NEW.seq < OLD.seq
    OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash)
    OR (NEW.seq > OLD.seq AND (
           NOT EXISTS (SELECT 1 FROM audit_log a
                        WHERE a.campaign_id = NEW.campaign_id AND a.seq = NEW.seq AND a.hash = NEW.hash)
        OR EXISTS (SELECT 1 FROM audit_log a WHERE a.campaign_id = NEW.campaign_id AND a.seq > NEW.seq)
        OR (SELECT count(*) FROM audit_log a
             WHERE a.campaign_id = NEW.campaign_id AND a.seq > OLD.seq) <> NEW.seq - OLD.seq))"""

# true when an INSERT is not the start of a new chain
_NOT_GENESIS = f"""
       NEW.seq <> 0 OR NEW.hash <> '{GENESIS}'
    OR EXISTS (SELECT 1 FROM audit_log a WHERE a.campaign_id = NEW.campaign_id)"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_heads_forward_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION '{REFUSED}';
                ELSIF TG_OP = 'INSERT' THEN
                    IF {_NOT_GENESIS} THEN RAISE EXCEPTION '{REFUSED}'; END IF;
                ELSIF {_NOT_FORWARD} THEN
                    RAISE EXCEPTION '{REFUSED}';
                END IF;
                RETURN NEW;
            END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_heads_no_rewind BEFORE INSERT OR UPDATE OR DELETE ON audit_heads
                      FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only()""")
        op.execute("""CREATE FUNCTION audit_no_truncate() RETURNS trigger AS $$
                      BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""")
        for table in ("audit_log", "audit_heads"):
            op.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                           FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()""")
    else:
        for name, when in (("update", f"BEFORE UPDATE ON audit_heads WHEN {_NOT_FORWARD}"),
                           ("insert", f"BEFORE INSERT ON audit_heads WHEN {_NOT_GENESIS}"),
                           ("delete", "BEFORE DELETE ON audit_heads")):
            op.execute(f"""CREATE TRIGGER audit_heads_no_rewind_{name} {when}
                           BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_log", "audit_heads"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_no_truncate()")
        op.execute("DROP TRIGGER IF EXISTS audit_heads_no_rewind ON audit_heads")
        op.execute("DROP FUNCTION IF EXISTS audit_heads_forward_only()")
    else:
        for name in ("update", "insert", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_heads_no_rewind_{name}")
