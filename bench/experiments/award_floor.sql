CREATE OR REPLACE FUNCTION cp_ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
CREATE OR REPLACE FUNCTION cp_floor(j jsonb) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  b int := (j->>'b')::int; wa uuid := (j->>'wa')::uuid; sa uuid := (j->>'sa')::uuid;
  rid uuid := (j->>'r')::uuid; mon text := j->>'month'; pid uuid := (j->>'p')::uuid;
  tid uuid := (j->>'t')::uuid; ew uuid := (j->>'ew')::uuid; es uuid := (j->>'es')::uuid;
  now_ timestamptz := (j->>'now')::timestamptz; occ timestamptz := (j->>'occ')::timestamptz;
  exp_ timestamptz := (j->>'exp')::timestamptz; amt int := (j->>'amt')::int;
  ref_ text := j->>'ref'; reason_ text := j->>'reason'; actor_ text := j->>'actor'; key_ text := j->>'key';
  used int; w record; s record; hw text; hs text; n int;
BEGIN
  PERFORM 1 FROM scoring_award WHERE participation_id = pid;
  SELECT count(*) INTO n FROM scoring_rule_set;
  INSERT INTO scoring_month_usage VALUES (rid, mon, 0) ON CONFLICT (resident_id, month)
    DO UPDATE SET points = scoring_month_usage.points RETURNING points INTO used;
  SELECT balance, entry_count, head_hash INTO s FROM ledger_account WHERE bucket = b AND id = sa FOR UPDATE;
  SELECT balance, entry_count, head_hash INTO w FROM ledger_account WHERE bucket = b AND id = wa FOR UPDATE;
  PERFORM 1 FROM ledger_transfer WHERE bucket = b AND idempotency_key = key_;
  hs := encode(sha256(convert_to(concat('["cp-entry-v1",', b, ',"', sa, '",', s.entry_count + 1, ',"', tid,
        '","award",', -amt, ',', s.balance - amt, ',"', wa, '",', to_json(ref_), ',', to_json(reason_), ',',
        to_json(actor_), ',"', cp_ts(occ), '","', cp_ts(now_), '","', s.head_hash, '"]'), 'UTF8')), 'hex');
  hw := encode(sha256(convert_to(concat('["cp-entry-v2",', b, ',"', wa, '",', w.entry_count + 1, ',"', tid,
        '","award",', amt, ',', w.balance + amt, ',"', sa, '",', to_json(ref_), ',', to_json(reason_), ',',
        to_json(actor_), ',"', cp_ts(occ), '","', cp_ts(now_), '","', w.head_hash, '","', cp_ts(exp_), '"]'), 'UTF8')), 'hex');
  INSERT INTO ledger_transfer VALUES (b, tid, 'award', amt, sa, wa, key_, hw, ref_, reason_, actor_, occ, now_);
  INSERT INTO ledger_entry VALUES
    (b, es, sa, s.entry_count + 1, tid, 'award', -amt, s.balance - amt, wa, ref_, reason_, actor_, occ, now_, s.head_hash, hs, NULL),
    (b, ew, wa, w.entry_count + 1, tid, 'award', amt, w.balance + amt, sa, ref_, reason_, actor_, occ, now_, w.head_hash, hw, exp_);
  INSERT INTO ledger_lot VALUES (b, (j->>'lot')::uuid, wa, ew, amt, amt, occ, exp_);
  INSERT INTO ledger_log_queue VALUES (b, es, now_), (b, ew, now_);
  INSERT INTO scoring_award (id, participation_id, resident_id, rule_set_id, month, category, credited_minutes,
    base, awarded, cut, refusal, explanation, expires_at, transfer_id, created_at, team_id)
    VALUES ((j->>'aid')::uuid, pid, rid, NULL, mon, 'volunteer_service', 120, 20, amt, 0, NULL, j->'expl', exp_, tid, now_, NULL);
  UPDATE scoring_month_usage SET points = used + amt WHERE resident_id = rid AND month = mon;
  UPDATE ledger_account SET balance = s.balance - amt, entry_count = s.entry_count + 1, head_hash = hs WHERE bucket = b AND id = sa;
  UPDATE ledger_account SET balance = w.balance + amt, entry_count = w.entry_count + 1, head_hash = hw WHERE bucket = b AND id = wa;
  RETURN amt;
END $$;
CREATE OR REPLACE FUNCTION cp_lock2(j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE b int := (j->>'b')::int; used int; s record; w record; n int; k int; d int;
BEGIN
  SELECT count(*) INTO d FROM scoring_award WHERE participation_id = (j->>'p')::uuid;
  SELECT count(*) INTO n FROM scoring_rule_set;
  INSERT INTO scoring_month_usage VALUES ((j->>'r')::uuid, j->>'month', 0) ON CONFLICT (resident_id, month)
    DO UPDATE SET points = scoring_month_usage.points RETURNING points INTO used;
  SELECT balance, entry_count, head_hash INTO s FROM ledger_account WHERE bucket = b AND id = (j->>'sa')::uuid FOR UPDATE;
  SELECT balance, entry_count, head_hash INTO w FROM ledger_account WHERE bucket = b AND id = (j->>'wa')::uuid FOR UPDATE;
  SELECT count(*) INTO k FROM ledger_transfer WHERE bucket = b AND idempotency_key = j->>'key';
  RETURN jsonb_build_object('used', used, 'n', n, 'd', d, 'k', k, 's', to_jsonb(s), 'w', to_jsonb(w));
END $$;
CREATE OR REPLACE FUNCTION cp_write2(j jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ledger_transfer SELECT * FROM jsonb_populate_recordset(NULL::ledger_transfer, j->'t');
  INSERT INTO ledger_entry SELECT * FROM jsonb_populate_recordset(NULL::ledger_entry, j->'e');
  INSERT INTO ledger_lot SELECT * FROM jsonb_populate_recordset(NULL::ledger_lot, j->'l');
  INSERT INTO ledger_log_queue SELECT * FROM jsonb_populate_recordset(NULL::ledger_log_queue, j->'q');
  INSERT INTO scoring_award SELECT * FROM jsonb_populate_recordset(NULL::scoring_award, j->'a');
  INSERT INTO scoring_month_usage SELECT * FROM jsonb_populate_recordset(NULL::scoring_month_usage, j->'m')
    ON CONFLICT (resident_id, month) DO UPDATE SET points = EXCLUDED.points;
  UPDATE ledger_account AS a SET balance = v.balance, entry_count = v.entry_count, head_hash = v.head_hash
    FROM jsonb_populate_recordset(NULL::ledger_account, j->'acc') AS v WHERE a.bucket = v.bucket AND a.id = v.id;
END $$;
