// @ts-check
/**
 * The SQL of the Postgres and PGlite stores: one schema, one set of functions, run by either
 * driver. Migrations are numbered, applied in order under an advisory lock (instances starting
 * together against a new database apply each one once) and recorded in `auth_shell_schema`; running
 * them again changes nothing. Every operation that must be atomic is one statement or one PL/pgSQL
 * function, so it is one round trip and one transaction.
 */

/** @type {Array<{ version: number, sql: string }>} */
export const MIGRATIONS = [
  {
    version: 1,
    sql: /* sql */ `
create table auth_shell_families (
  ref text primary key,
  seq bigserial not null,
  sid text not null unique,
  user_id text not null,
  claims text not null,
  created_at bigint not null,
  expires_at bigint not null,
  last_used_at bigint not null,
  current_hash text not null,
  previous_hash text,
  previous_used_at bigint,
  sealed text,
  revoked_at bigint,
  revoked_reason text
);
create index auth_shell_families_user on auth_shell_families (user_id, seq);
create index auth_shell_families_expiry on auth_shell_families (expires_at);

create table auth_shell_tickets (
  hash text primary key,
  minter text not null,
  data text not null,
  expires_at bigint not null,
  used_at bigint
);
create index auth_shell_tickets_minter on auth_shell_tickets (minter, expires_at);
create index auth_shell_tickets_expiry on auth_shell_tickets (expires_at);

create table auth_shell_throttle (
  key text primary key,
  failures integer not null,
  window_start bigint not null,
  locked_until bigint not null,
  expires_at bigint not null
);
create index auth_shell_throttle_expiry on auth_shell_throttle (expires_at);

create table auth_shell_keys (
  kid text primary key,
  jwk text not null,
  created_at bigint not null
);

-- Compare-and-set of the presented refresh token, under the family's row lock.
create function auth_shell_rotate(p_ref text, p_hash text, p_next text, p_sealed text, p_now bigint,
  p_grace bigint, p_idle bigint)
returns table (o_outcome text, o_sid text, o_user_id text, o_claims text, o_expires_at bigint, o_sealed text)
language plpgsql as $$
declare
  f auth_shell_families%rowtype;
  outcome text;
begin
  select * into f from auth_shell_families where ref = p_ref for update;
  if not found then
    return query select 'unknown'::text, null::text, null::text, null::text, null::bigint, null::text;
    return;
  end if;
  if f.revoked_at is not null then
    outcome := 'revoked';
  elsif p_now >= f.expires_at then
    outcome := 'expired';
  elsif p_now - f.last_used_at > p_idle then
    outcome := 'idle';
  elsif f.current_hash = p_hash then
    update auth_shell_families
      set previous_hash = p_hash, previous_used_at = p_now, sealed = p_sealed, current_hash = p_next,
          last_used_at = p_now
      where ref = p_ref;
    outcome := 'rotated';
  elsif f.previous_hash = p_hash and f.sealed is not null and p_now - f.previous_used_at <= p_grace then
    return query select 'grace'::text, f.sid, f.user_id, f.claims, f.expires_at, f.sealed;
    return;
  else
    update auth_shell_families set revoked_at = p_now, revoked_reason = 'reuse' where ref = p_ref;
    outcome := 'reuse';
  end if;
  return query select outcome, f.sid, f.user_id, f.claims, f.expires_at, null::text;
end $$;

-- A new family, then the user's oldest live families beyond p_max revoked (returned).
create function auth_shell_create_family(p_ref text, p_sid text, p_user text, p_claims text,
  p_created bigint, p_expires bigint, p_hash text, p_now bigint, p_max integer, p_reason text)
returns table (o_sid text, o_user_id text)
language plpgsql as $$
begin
  insert into auth_shell_families (ref, sid, user_id, claims, created_at, expires_at, last_used_at, current_hash)
    values (p_ref, p_sid, p_user, p_claims, p_created, p_expires, p_created, p_hash);
  return query
    update auth_shell_families f set revoked_at = p_now, revoked_reason = p_reason
    where f.ref in (
      select v.ref from auth_shell_families v
      where v.user_id = p_user and v.revoked_at is null and v.expires_at > p_now
      order by v.seq desc
      offset p_max
      for update
    )
    returning f.sid, f.user_id;
end $$;

-- A ticket, unless its minter already holds p_max outstanding ones: then the soonest expiry.
create function auth_shell_put_ticket(p_hash text, p_minter text, p_data text, p_expires bigint,
  p_now bigint, p_max integer)
returns bigint
language plpgsql as $$
declare
  n integer;
  soonest bigint;
begin
  perform pg_advisory_xact_lock(hashtext('auth_shell_ticket:' || p_minter));
  select count(*), min(expires_at) into n, soonest
    from auth_shell_tickets where minter = p_minter and used_at is null and expires_at > p_now;
  if n >= p_max then
    return soonest;
  end if;
  insert into auth_shell_tickets (hash, minter, data, expires_at) values (p_hash, p_minter, p_data, p_expires);
  return 0;
end $$;

-- A failure against each key (always in the caller's order, so two calls never deadlock).
create function auth_shell_throttle_fail(p_keys text[], p_limits integer[], p_now bigint,
  p_window bigint, p_lock bigint)
returns void
language plpgsql as $$
declare
  i integer;
  e auth_shell_throttle%rowtype;
  f integer;
  ws bigint;
  lu bigint;
begin
  for i in 1 .. coalesce(array_length(p_keys, 1), 0) loop
    insert into auth_shell_throttle (key, failures, window_start, locked_until, expires_at)
      values (p_keys[i], 0, p_now, 0, p_now + p_window)
      on conflict (key) do nothing;
    select * into e from auth_shell_throttle where key = p_keys[i] for update;
    if e.expires_at <= p_now then
      f := 0; ws := p_now; lu := 0;
    else
      f := e.failures; ws := e.window_start; lu := e.locked_until;
    end if;
    f := f + 1;
    if f >= p_limits[i] then
      f := 0; ws := p_now; lu := p_now + p_lock;
    end if;
    update auth_shell_throttle
      set failures = f, window_start = ws, locked_until = lu, expires_at = greatest(ws + p_window, lu)
      where key = p_keys[i];
  end loop;
end $$;

-- A signing key; with p_only_if_none only into an empty table (instances starting together agree).
create function auth_shell_add_key(p_kid text, p_jwk text, p_created bigint, p_only_if_none boolean)
returns void
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(hashtext('auth_shell_keys'));
  if p_only_if_none and exists (select 1 from auth_shell_keys) then
    return;
  end if;
  insert into auth_shell_keys (kid, jwk, created_at) values (p_kid, p_jwk, p_created);
end $$;
`,
  },
];

/** The advisory lock migrations run under (any constant; "auth" in ASCII). */
const MIGRATION_LOCK = 0x61757468;

/**
 * @typedef {(text: string, params?: unknown[], name?: string) => Promise<any[]>} Query rows of a statement
 * @typedef {object} SqlDriver
 * @property {Query} query
 * @property {<T>(fn: (tx: { query: Query, exec: (text: string) => Promise<void> }) => Promise<T>) => Promise<T>} transaction
 * @property {() => Promise<void>} close
 */

/**
 * Applies the migrations not yet applied, in one transaction under an advisory lock.
 * @param {SqlDriver} driver @param {() => number} [clock]
 * @returns {Promise<number[]>} the versions applied now
 */
export function migrate(driver, clock = Date.now) {
  return driver.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.exec(
      'create table if not exists auth_shell_schema (version integer primary key, applied_at bigint not null)',
    );
    const [row] = await tx.query('select coalesce(max(version), 0) as version from auth_shell_schema');
    const current = Number(row.version);
    /** @type {number[]} */
    const applied = [];
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.exec(m.sql);
      await tx.query('insert into auth_shell_schema (version, applied_at) values ($1, $2)', [m.version, clock()]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** @param {any} row @returns {import('../store.js').FamilyInfo} */
const familyRow = (row) => ({
  ref: row.ref,
  sid: row.sid,
  userId: row.user_id,
  claims: JSON.parse(row.claims),
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  lastUsedAt: Number(row.last_used_at),
  revoked: row.revoked_at === null ? null : { at: Number(row.revoked_at), reason: row.revoked_reason },
});

const FAMILY_COLUMNS = 'ref, sid, user_id, claims, created_at, expires_at, last_used_at, revoked_at, revoked_reason';

/**
 * A store on a SQL driver (Postgres or PGlite).
 * @param {'postgres' | 'pglite'} kind @param {() => Promise<SqlDriver>} connect
 * @returns {import('../store.js').Store}
 */
export function sqlStore(kind, connect) {
  /** @type {SqlDriver | undefined} */
  let driver;
  /** @type {Promise<SqlDriver> | undefined} */
  let opening;
  const db = async () => {
    if (driver) return driver;
    opening ??= connect().then(
      (d) => (driver = d),
      (error) => {
        opening = undefined;
        throw error;
      },
    );
    return opening;
  };
  /** @type {Query} */
  const q = async (text, params, name) => (await db()).query(text, params, name);

  return {
    kind,
    async init() {
      await migrate(await db());
    },

    async close() {
      const d = driver ?? (opening ? await opening.catch(() => undefined) : undefined);
      driver = undefined;
      opening = undefined;
      await d?.close();
    },

    async createFamily(f, { now, maxPerUser, reason }) {
      const rows = await q(
        'select o_sid, o_user_id from auth_shell_create_family($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
        [
          f.ref,
          f.sid,
          f.userId,
          JSON.stringify(f.claims),
          f.createdAt,
          f.expiresAt,
          f.tokenHash,
          now,
          maxPerUser,
          reason,
        ],
        'auth_shell_create_family',
      );
      return rows.map((r) => ({ sid: r.o_sid, userId: r.o_user_id }));
    },

    async rotate({ ref, presentedHash, nextHash, sealed, now, graceMs, idleMs }) {
      const [row] = await q(
        'select * from auth_shell_rotate($1, $2, $3, $4, $5, $6, $7)',
        [ref, presentedHash, nextHash, sealed, now, graceMs, idleMs],
        'auth_shell_rotate',
      );
      const outcome = /** @type {import('../store.js').RotateOutcome} */ (row.o_outcome);
      if (outcome === 'unknown') return { outcome };
      const family = {
        sid: row.o_sid,
        userId: row.o_user_id,
        claims: JSON.parse(row.o_claims),
        expiresAt: Number(row.o_expires_at),
      };
      return row.o_sealed ? { outcome, family, sealed: row.o_sealed } : { outcome, family };
    },

    async findFamily(ref) {
      const [row] = await q(
        `select ${FAMILY_COLUMNS} from auth_shell_families where ref = $1`,
        [ref],
        'auth_shell_find_family',
      );
      return row ? familyRow(row) : null;
    },

    async findFamilyBySid(sid) {
      const [row] = await q(
        `select ${FAMILY_COLUMNS} from auth_shell_families where sid = $1`,
        [sid],
        'auth_shell_find_sid',
      );
      return row ? familyRow(row) : null;
    },

    async revokeFamily(ref, reason, now) {
      const [row] = await q(
        'update auth_shell_families set revoked_at = $3, revoked_reason = $2 where ref = $1 and revoked_at is null returning sid, user_id',
        [ref, reason, now],
        'auth_shell_revoke_family',
      );
      return row ? { sid: row.sid, userId: row.user_id } : null;
    },

    async revokeUser(userId, reason, now) {
      const rows = await q(
        'update auth_shell_families set revoked_at = $3, revoked_reason = $2 where user_id = $1 and revoked_at is null and expires_at > $3 returning sid, user_id',
        [userId, reason, now],
        'auth_shell_revoke_user',
      );
      return rows.map((r) => ({ sid: r.sid, userId: r.user_id }));
    },

    async putTicket({ hash, minter, data, expiresAt, now, max }) {
      const [row] = await q(
        'select auth_shell_put_ticket($1, $2, $3, $4, $5, $6) as soonest',
        [hash, minter, JSON.stringify(data), expiresAt, now, max],
        'auth_shell_put_ticket',
      );
      return Number(row.soonest);
    },

    async takeTicket(hash, now) {
      const [row] = await q(
        `with before as (select used_at from auth_shell_tickets where hash = $1 for update)
         update auth_shell_tickets t set used_at = coalesce(t.used_at, $2) from before
         where t.hash = $1 returning t.data, t.expires_at, before.used_at as used_before`,
        [hash, now],
        'auth_shell_take_ticket',
      );
      if (!row) return null;
      return { data: JSON.parse(row.data), valid: row.used_before === null && Number(row.expires_at) > now };
    },

    async throttleCheck(keys, now) {
      const [row] = await q(
        'select coalesce(max(locked_until), 0) as until from auth_shell_throttle where key = any($1::text[]) and locked_until > $2',
        [keys, now],
        'auth_shell_throttle_check',
      );
      return Number(row.until);
    },

    async throttleFail(entries, { now, windowMs, lockMs }) {
      await q(
        'select auth_shell_throttle_fail($1::text[], $2::integer[], $3, $4, $5)',
        [entries.map((e) => e.key), entries.map((e) => e.limit), now, windowMs, lockMs],
        'auth_shell_throttle_fail',
      );
    },

    async throttleReset(key) {
      await q('delete from auth_shell_throttle where key = $1', [key], 'auth_shell_throttle_reset');
    },

    async loadKeys() {
      const rows = await q('select kid, jwk, created_at from auth_shell_keys order by created_at, kid');
      return rows.map((r) => ({ kid: r.kid, jwk: JSON.parse(r.jwk), createdAt: Number(r.created_at) }));
    },

    async addKey(key, onlyIfNone) {
      await q('select auth_shell_add_key($1, $2, $3, $4)', [
        key.kid,
        JSON.stringify(key.jwk),
        key.createdAt,
        onlyIfNone,
      ]);
    },

    async deleteKeys(kids) {
      await q('delete from auth_shell_keys where kid = any($1::text[])', [kids]);
    },

    async cleanup(now) {
      await q('delete from auth_shell_families where expires_at <= $1', [now]);
      await q('delete from auth_shell_tickets where expires_at <= $1', [now]);
      await q('delete from auth_shell_throttle where expires_at <= $1', [now]);
    },
  };
}
