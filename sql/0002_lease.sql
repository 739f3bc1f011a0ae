-- 0002_lease: the fenced write lease, kept in the CurationLock row (0001) and checked inside
-- PostgreSQL, in the transaction of every write, with the database clock (clock_timestamp()).
--
-- Functions (all take and give the fencing token as bigint):
--   wsa_lease_acquire(holder, ttl, lock_wait)  grant if free, released or expired (token + 1);
--                                              otherwise a row saying who holds it, since and until when
--   wsa_lease_heartbeat(holder, token, ttl)    extend the expiry; raises WS001/WS002/WS003
--   wsa_lease_release(holder, token)           end the lease; raises WS001 for a stale token
--   wsa_lease_fence(token)                     first statement of every write transaction;
--                                              raises WS001/WS002/WS003 unless the token is live
--   wsa_lease_status()                         the lease as it stands (free/held/expired)
--
-- SQLSTATEs (class WS, unused by PostgreSQL):
--   WS001  stale fencing token: a newer lease was granted since (or the holder name is wrong)
--   WS002  the lease of this token has expired (its holder stopped beating)
--   WS003  the lease of this token was released
--   22023  (invalid_parameter_value) a bad holder name or TTL
--
-- Why the fence is race-free, and why heartbeats do not wait for writes:
--   * wsa_lease_fence locks the CurationLock row FOR KEY SHARE and the lock is held until the
--     write transaction ends. Writers under the same token do not block each other (KEY SHARE
--     locks are compatible), nor the holder's heartbeats (an UPDATE that leaves every key column
--     alone takes only the FOR NO KEY UPDATE tuple lock, compatible with KEY SHARE).
--   * A grant locks the row FOR UPDATE before it changes the token, and FOR UPDATE conflicts
--     with KEY SHARE. The unique index below makes fencingToken a key column, so that any other
--     UPDATE that changes the token, however it is written, takes the same FOR UPDATE tuple lock.
--     So a new grant waits until every fenced write in flight has committed or rolled back,
--     and a fence check that comes after an uncommitted grant waits for it and then sees the new
--     token (READ COMMITTED follows the row's update chain). A stale write therefore never
--     commits after a newer grant. (In REPEATABLE READ or SERIALIZABLE a fence check on a row
--     changed since the snapshot fails with 40001 instead: also nothing written.)
--   * Not FOR SHARE: it conflicts with every UPDATE, so a heartbeat would wait for the holder's
--     whole write transaction, and a long load would let its own lease expire. Not FOR UPDATE:
--     writers under one token would run one at a time.

-- The TTL of the current grant (used by heartbeats that do not name one) and when it was released.
ALTER TABLE CurationLock
    ADD COLUMN leaseTTL   interval CHECK (leaseTTL > interval '0'),
    ADD COLUMN releasedAt timestamptz;

-- Makes fencingToken a key column (see above); with one row the uniqueness itself is trivial.
CREATE UNIQUE INDEX curationlock_fencingtoken ON CurationLock (fencingToken);

-- A timestamp as ISO 8601 UTC with milliseconds, for messages.
CREATE FUNCTION wsa_lease_ts(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Refuses a holder name or TTL that cannot be used.
CREATE FUNCTION wsa_lease_check_arguments(p_holder text, p_ttl interval) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_holder IS NULL OR btrim(p_holder) = '' OR length(p_holder) > 256 THEN
        RAISE EXCEPTION 'a lease holder name must be 1 to 256 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_ttl IS NOT NULL AND (p_ttl <= interval '0' OR p_ttl > interval '1 day') THEN
        RAISE EXCEPTION 'a lease TTL must be more than 0 and at most 1 day, not %', p_ttl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- Raises the error that says why `p_token` (claimed by `p_holder`, NULL for any) is not live,
-- given the row `r` as it stands. Returns quietly when the token is live.
CREATE FUNCTION wsa_lease_refuse(r CurationLock, p_token bigint, p_holder text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_token IS DISTINCT FROM r.fencingToken THEN
        RAISE EXCEPTION '%', format('stale fencing token %s: the write lease now has token %s%s',
                p_token, r.fencingToken,
                CASE WHEN r.holder IS NULL THEN ' (released)'
                     ELSE format(' (held by "%s" since %s)', r.holder, wsa_lease_ts(r.grantedAt)) END)
            USING ERRCODE = 'WS001',
                  HINT = 'another holder was granted the lease after this token''s lease ended; nothing was written';
    END IF;
    IF r.holder IS NULL THEN
        RAISE EXCEPTION 'the write lease with token % was released at %', p_token,
                coalesce(wsa_lease_ts(r.releasedAt), 'an unknown time')
            USING ERRCODE = 'WS003', HINT = 'acquire the lease again';
    END IF;
    IF p_holder IS NOT NULL AND p_holder IS DISTINCT FROM r.holder THEN
        RAISE EXCEPTION 'fencing token % belongs to holder "%", not "%"', p_token, r.holder, p_holder
            USING ERRCODE = 'WS001';
    END IF;
    IF r.expiresAt <= p_now THEN
        RAISE EXCEPTION 'the write lease with token % (holder "%") expired at %', p_token, r.holder,
                wsa_lease_ts(r.expiresAt)
            USING ERRCODE = 'WS002',
                  HINT = 'the holder stopped sending heartbeats; acquire the lease again';
    END IF;
END
$$;

-- Grants the lease to `p_holder` for `p_ttl` when it is free, released or expired, with the next
-- fencing token. Otherwise returns granted = false and who holds it, since and until when. A
-- holder that already holds the lease is refused too (holder names should be unique per
-- process). Before granting over an expired lease it waits up to `p_lock_wait` for the old
-- holder's fenced writes still in flight; if they do not finish, busy = true.
CREATE FUNCTION wsa_lease_acquire(p_holder text, p_ttl interval,
                                  p_lock_wait interval DEFAULT interval '2 seconds')
RETURNS TABLE (granted boolean, busy boolean, holder text, fencing_token bigint,
               granted_at timestamptz, expires_at timestamptz, db_now timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    r CurationLock;
    now_ timestamptz;
    saved_timeout text := current_setting('lock_timeout');
BEGIN
    PERFORM wsa_lease_check_arguments(p_holder, p_ttl);
    IF p_ttl IS NULL THEN
        RAISE EXCEPTION 'a lease TTL is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- Without a lock first: a lease that is plainly held is refused at once, without waiting
    -- for the holder's writes in flight.
    SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1;
    now_ := clock_timestamp();
    IF r.holder IS NOT NULL AND r.expiresAt > now_ THEN
        RETURN QUERY SELECT false, false, r.holder::text, r.fencingToken, r.grantedAt, r.expiresAt, now_;
        RETURN;
    END IF;

    -- Looks free: lock the row (waiting for fenced writes in flight, bounded) and look again.
    BEGIN
        PERFORM set_config('lock_timeout',
                           greatest(1, (extract(epoch FROM p_lock_wait) * 1000)::bigint)::text, true);
        SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1 FOR UPDATE;
        PERFORM set_config('lock_timeout', saved_timeout, true);
    EXCEPTION WHEN lock_not_available THEN
        PERFORM set_config('lock_timeout', saved_timeout, true);
        SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1;
        RETURN QUERY SELECT false, true, r.holder::text, r.fencingToken, r.grantedAt, r.expiresAt,
                            clock_timestamp();
        RETURN;
    END;

    now_ := clock_timestamp();
    IF r.holder IS NOT NULL AND r.expiresAt > now_ THEN
        RETURN QUERY SELECT false, false, r.holder::text, r.fencingToken, r.grantedAt, r.expiresAt, now_;
        RETURN;
    END IF;

    UPDATE CurationLock c
       SET holder = p_holder, fencingToken = c.fencingToken + 1, cuEventID = NULL,
           grantedAt = now_, heartbeatAt = now_, expiresAt = now_ + p_ttl,
           leaseTTL = p_ttl, releasedAt = NULL
     WHERE c.lockID = 1
    RETURNING * INTO STRICT r;
    RETURN QUERY SELECT true, false, r.holder::text, r.fencingToken, r.grantedAt, r.expiresAt, now_;
END
$$;

-- Extends the lease of `p_token` to now + `p_ttl` (NULL: the TTL it was granted with). Returns
-- the new expiry and the database time. Raises WS001 (stale token or wrong holder), WS002
-- (expired: an expired lease is never revived) or WS003 (released).
CREATE FUNCTION wsa_lease_heartbeat(p_holder text, p_token bigint, p_ttl interval DEFAULT NULL)
RETURNS TABLE (expires_at timestamptz, db_now timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    r CurationLock;
    now_ timestamptz;
BEGIN
    PERFORM wsa_lease_check_arguments(p_holder, p_ttl);
    -- A plain UPDATE that leaves the token alone: it does not wait for fenced writes in flight.
    now_ := clock_timestamp();
    UPDATE CurationLock c
       SET heartbeatAt = now_, expiresAt = now_ + coalesce(p_ttl, c.leaseTTL),
           leaseTTL = coalesce(p_ttl, c.leaseTTL)
     WHERE c.lockID = 1 AND c.fencingToken = p_token AND c.holder = p_holder
       AND c.expiresAt > now_
    RETURNING * INTO r;
    IF FOUND THEN
        RETURN QUERY SELECT r.expiresAt, now_;
        RETURN;
    END IF;
    SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1;
    PERFORM wsa_lease_refuse(r, p_token, p_holder, clock_timestamp());
    -- The row changed between the UPDATE and the SELECT (a grant committed in between).
    RAISE EXCEPTION 'stale fencing token %: the write lease changed during the heartbeat', p_token
        USING ERRCODE = 'WS001';
END
$$;

-- Ends the lease of `p_token`; true when this call released it, false when it was already
-- released. An expired lease whose token is still current is released too. Raises WS001 when a
-- newer lease was granted since (the caller had lost the lease) or the holder name is wrong.
CREATE FUNCTION wsa_lease_release(p_holder text, p_token bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r CurationLock;
BEGIN
    PERFORM wsa_lease_check_arguments(p_holder, NULL);
    UPDATE CurationLock c
       SET holder = NULL, expiresAt = NULL, releasedAt = clock_timestamp()
     WHERE c.lockID = 1 AND c.fencingToken = p_token AND c.holder = p_holder
    RETURNING * INTO r;
    IF FOUND THEN
        RETURN true;
    END IF;
    SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1;
    IF r.fencingToken = p_token AND r.holder IS NULL THEN
        RETURN false;
    END IF;
    PERFORM wsa_lease_refuse(r, p_token, p_holder, clock_timestamp());
    RAISE EXCEPTION 'stale fencing token %: the write lease changed during the release', p_token
        USING ERRCODE = 'WS001';
END
$$;

-- The write fence: call it first in every write transaction. Returns the holder's name when
-- `p_token` is the current token of a lease that is held and not expired (by the database
-- clock); raises WS001 (stale), WS002 (expired) or WS003 (released) otherwise. The row stays
-- locked FOR KEY SHARE until the transaction ends, so no new grant can commit before it does.
CREATE FUNCTION wsa_lease_fence(p_token bigint)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r CurationLock;
BEGIN
    SELECT * INTO STRICT r FROM CurationLock c WHERE c.lockID = 1 FOR KEY SHARE;
    PERFORM wsa_lease_refuse(r, p_token, NULL, clock_timestamp());
    RETURN r.holder;
END
$$;

-- The lease as it stands: state is 'free' (never granted or released), 'held' or 'expired'.
CREATE FUNCTION wsa_lease_status()
RETURNS TABLE (state text, holder text, fencing_token bigint, granted_at timestamptz,
               heartbeat_at timestamptz, expires_at timestamptz, released_at timestamptz,
               lease_ttl interval, db_now timestamptz)
LANGUAGE sql AS $$
    SELECT CASE WHEN c.holder IS NULL THEN 'free'
                WHEN c.expiresAt > clock_timestamp() THEN 'held'
                ELSE 'expired' END,
           c.holder::text, c.fencingToken, c.grantedAt, c.heartbeatAt, c.expiresAt, c.releasedAt,
           c.leaseTTL, clock_timestamp()
      FROM CurationLock c WHERE c.lockID = 1
$$;
