package main

import "fmt"

// helpCommand implements `dynamutex help [COMMAND]`.
func (a *app) helpCommand(c *common, args []string) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(a.stdout, mainHelp)
		return exitOK
	case len(args) > 1:
		return a.fail(usageError("", "help takes one COMMAND, got %q", args))
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return a.fail(usageError("", "no help for %q: the commands are run, status, list, create-table and help", args[0]))
	}
	fmt.Fprint(a.stdout, cmd.help)
	return exitOK
}

// The help texts are written out rather than generated from the flag sets,
// so that they can explain; TestHelpCoversEveryFlag keeps them complete.
// doc.go mirrors mainHelp.

// mainHelp is `dynamutex --help`.
const mainHelp = `dynamutex - a distributed flock(1) on Amazon DynamoDB, for cron jobs, deploys and scripts

Usage:
  dynamutex run [OPTIONS] --key KEY -- CMD [ARGS...]   run CMD while holding the lock KEY
  dynamutex status [OPTIONS] KEY                       show who holds KEY
  dynamutex list [OPTIONS]                             show every lock record in the table
  dynamutex create-table [OPTIONS]                     create the lock table (idempotent)
  dynamutex help [COMMAND]                             show the help of a command

Options of every command (before or after the command name):
  --table T        lock table (default "dynamutex_locks")
  --region R       AWS region (default: from AWS_REGION or your AWS config)
  --profile P      AWS shared-config profile (default: AWS_PROFILE, or "default")
  --endpoint URL   DynamoDB endpoint, such as http://localhost:8000 for DynamoDB Local
  -v, --verbose    progress and the library's log on stderr
  --format F       record format: native (default), or java or python to share
                   the table with the Java AmazonDynamoDBLockClient or
                   python-dynamodb-lock; its keys become the defaults below
  --partition-key A  the table's partition-key attribute (default "key";
                   "lock_key" with --format python)
  --sort-key A       the table's sort-key attribute (default: none;
                   "sort_key" with --format python)
  --sort-key-value V the lock's sort-key value, for a table with a sort key
                   (default "-" with --format python)

Examples:
  # one report at a time across all machines; skip this turn if one is still going.
  #   A run that finds the holder silent for longer than its lease watches it for
  #   one more lease (20s by default) and then takes a crashed holder's lock over
  */5 * * * * dynamutex run --table locks --key nightly-report --no-wait -- /usr/local/bin/report

  # the same on machines whose clocks are bounded (Amazon Time Sync, chrony with
  #   ClockBound): a crashed holder that declared a bound too is taken over at once
  */5 * * * * dynamutex run --table locks --key nightly-report --no-wait --clock-bound 10ms -- /usr/local/bin/report

  # or wait up to a minute for the previous report
  */5 * * * * dynamutex run --table locks --key nightly-report --wait 1m -- /usr/local/bin/report

  # wait up to 10 minutes for the previous deploy; show who deploys in 'status'
  dynamutex run --key deploy/prod --wait 10m --data "$USER" -- ./deploy.sh

  dynamutex create-table --table locks
  dynamutex status --table locks nightly-report
  dynamutex list --table locks --json

  # against DynamoDB Local
  dynamutex --endpoint http://localhost:8000 create-table

` + exitCodesHelp + `
` + environmentHelp

// exitCodesHelp is shared by the main help and the help of run.
const exitCodesHelp = `Exit codes:
  0..255  run: CMD's exit code; 128+N if a signal N killed CMD, as in shells
  0       status, list, create-table: success (status also for a KEY with no record: it is free)
  1       other failure: DynamoDB unreachable, credentials refused, status of a corrupt record
  2       usage error: bad flags or values, missing table (create it with
          'dynamutex create-table --table T'), bad AWS configuration
  75      run: lock busy: held elsewhere with --no-wait, or --wait ran out
          (EX_TEMPFAIL; change it with --busy-exit-code)
  76      run: the lock was lost or in danger while CMD ran; CMD was stopped
  126     run: CMD cannot be executed
  127     run: CMD not found
  128+N   run: signal N arrived while waiting for the lock (130 for SIGINT); CMD did not run
  dynamutex's own codes can collide with CMD's; each comes with a message on stderr.
`

// environmentHelp is shared by the main help and the help of run.
const environmentHelp = `Environment:
  Every option can come from a variable; an option on the command line wins.
  DYNAMUTEX_TABLE, DYNAMUTEX_VERBOSE,
  DYNAMUTEX_FORMAT, DYNAMUTEX_PARTITION_KEY, DYNAMUTEX_SORT_KEY, DYNAMUTEX_SORT_KEY_VALUE
  DYNAMUTEX_KEY, DYNAMUTEX_LEASE, DYNAMUTEX_WAIT, DYNAMUTEX_NO_WAIT, DYNAMUTEX_GRACE,
  DYNAMUTEX_OWNER, DYNAMUTEX_DATA, DYNAMUTEX_BUSY_EXIT_CODE,
  DYNAMUTEX_SESSION_LEASE                                       (run)
  DYNAMUTEX_CLOCK_BOUND                                         (run, status, list)
  AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ... as for the AWS CLI.
  The endpoint is --endpoint, else the AWS SDK's AWS_ENDPOINT_URL_DYNAMODB,
  AWS_ENDPOINT_URL or the profile's endpoint_url. For DynamoDB Local (make
  local prints these):
    export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_REGION=us-east-1 \
      AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  With an endpoint and no credentials, dummy ones are used (DynamoDB Local
  checks none), and the region defaults to us-east-1. Looking for real ones
  ends at the EC2 instance metadata service: off EC2, set
  AWS_EC2_METADATA_DISABLED=true to skip it.

  run gives CMD the variables DYNAMUTEX_TOKEN (the fencing token, in decimal;
  it grows with every acquisition of KEY), DYNAMUTEX_KEY, DYNAMUTEX_TABLE and
  DYNAMUTEX_OWNER, besides its own environment. A nested dynamutex inherits
  the table and owner from them; a nested run must be given --key.
`

// runHelp is `dynamutex help run`.
const runHelp = `Usage: dynamutex run [OPTIONS] --key KEY -- CMD [ARGS...]

Take the lock KEY, run CMD while holding it, release it when CMD exits, and
exit with CMD's exit code (128+N if a signal N killed it). A run that has to
wait for the lock says so once on stderr, with who holds it.

  --key KEY        the lock to take (required)
  --wait D         give up after D and exit 75, such as 30s or 10m
                   (default 0: wait as long as it takes)
  --no-wait        do not wait, like flock -n: if the lock is held, exit 75; a
                   holder that looks dead is watched for one lease first
                   (see "Crashed holders" below)
  --clock-bound D  this machine's wall clock is within D of true time, such as
                   1ms (default: none declared); see "Crashed holders" below
  --lease D        lease of the lock (default 20s), a whole number of milliseconds,
                   at least 100ms.
                   dynamutex renews it every D/4; if no renewal has landed for 3D/4,
                   the lock is in danger and CMD is stopped. A holder that dies is
                   taken over one lease after a run starts watching it.
  --grace D        time between SIGTERM and SIGKILL when the lock is lost or in
                   danger (default: half the margin, lease − 3/4 lease, so 2.5s at
                   the default lease; longer than 3/4 of the margin is refused)
  --data S         text stored with the lock, shown by status and list
  --owner O        owner name stored with the lock (default host/pid/random)
  --busy-exit-code N  exit code for a busy lock (default 75), like flock -E
  --session-lease  hold the lock under a Session record, as services using
                   WithSessionLease do: one more write at the start, the same
                   renewals, and status shows the Session
  --slots N        take one of N permits of semaphore KEY instead of lock KEY,
                   so that at most N such runs hold one at a time across the
                   fleet (1 to 100); each permit is held, renewed, lost and
                   taken over from a dead holder as a lock is; --data is
                   refused, and --no-wait tries once (busy: exit 75)
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command
  --format, --partition-key, --sort-key, --sort-key-value as for every command

CMD runs in a process group of its own, with the tool's stdin, stdout and
stderr, and with DYNAMUTEX_TOKEN, DYNAMUTEX_KEY, DYNAMUTEX_TABLE and
DYNAMUTEX_OWNER added to the environment. Pass DYNAMUTEX_TOKEN to the
systems CMD writes to and let them refuse tokens lower than one they have
seen: that keeps a stopped-too-late CMD from doing harm.

The lock is released when CMD exits; processes CMD left running in the
background are not waited for. If DynamoDB cannot be reached for the
release, run says so and still exits with CMD's code: the lock then stays
held until its lease runs out, and others take it over after that. With -v,
run also shows the AWS SDK's error, and reports how long it waited for the
lock and how many requests that took.

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to dynamutex are forwarded
to CMD's process group; the lock is released once CMD has exited, and the
exit code is CMD's. If one arrives while waiting for the lock, dynamutex
stops waiting and exits 128+N without running CMD. Signals ignored when
dynamutex starts (SIGHUP under nohup) stay ignored, in CMD too.

Lost lock: if the lock is taken over behind dynamutex's back, or renewals do
not land for 3/4 of the lease (DynamoDB unreachable), dynamutex says why on
stderr, sends SIGTERM to CMD's process group, SIGKILL after --grace, and
exits 76. CMD is dead before any other process may take the lock over:
nobody can take it over until a whole lease after the last renewal that
landed, which leaves a margin of lease − 3/4 lease (5s at the default 20s
lease) after the danger sign. The grace defaults to half that margin, a
--grace longer than 3/4 of it is refused (exit 2), and when the danger sign
comes late (a loaded machine) SIGKILL comes earlier, so that it lands a
quarter margin before the earliest takeover. If the release finds the lock
lost after CMD finished, it also exits 76: CMD may have run without
exclusive access. A dynamutex that was itself frozen (a stopped VM, SIGSTOP)
cannot stop CMD in time; pass DYNAMUTEX_TOKEN to the systems CMD writes to,
so that they refuse a stale holder (fencing).

Crashed holders: a holder that died without releasing (kill -9, a lost
machine) stops writing to its record. Every run stamps its writes with this
machine's wall clock, and renews several times a lease, so a record not
written for longer than its lease looks dead. A --no-wait run that finds one
watches it for one lease (the holder's) and tries again: if the record did
not change, it takes the lock over, since a live holder would have renewed;
if it changed, the holder is alive (or someone else took it) and the run
exits 75. A holder that wrote within its lease, or a record written by an
earlier release (no write time), is busy at once. A waiting run (no
--no-wait) takes a dead holder over the same way, one lease after it starts
watching. So cron jobs recover by themselves with --no-wait too.

With --clock-bound D, every write also carries a deadline: the writer's
clock plus the lease plus D. A run with --clock-bound takes over a record
whose deadline its own clock, less its own D, has passed, at once and
without watching; so when every run on the key declares a bound, a crashed
holder is taken over as soon as its lease and both bounds have passed since
its last write. Records without a deadline (holders without --clock-bound)
are watched as above. Declare a bound only on machines whose clocks really
are bounded and monitored, such as EC2 with Amazon Time Sync, or chrony
with AWS ClockBound, and give the bound they report. A wrong bound costs what a lock exists to prevent: two holders at
once. dynamutex compares its clock with the Date of DynamoDB's replies and,
when they disagree by more than D plus a second plus the round trip, warns
and stops taking over by clock until they agree for a lease again; that
catches a clock far off, not one a little off.

Examples:
  */5 * * * * dynamutex run --table locks --key nightly-report --no-wait -- /usr/local/bin/report
  */5 * * * * dynamutex run --table locks --key nightly-report --no-wait --clock-bound 10ms -- /usr/local/bin/report
  dynamutex run --key deploy/prod --wait 10m --data "$USER" -- ./deploy.sh
  dynamutex run --key db-migrate -- sh -c 'migrate --fence "$DYNAMUTEX_TOKEN"'

` + exitCodesHelp + `
` + environmentHelp

// statusHelp is `dynamutex help status`.
const statusHelp = `Usage: dynamutex status [OPTIONS] KEY

Show the record of the lock KEY: its state, owner, fencing token, lease,
last write, deadline and data. It makes one strongly consistent read and
writes nothing.

  --json           print a JSON object with the fields key, sort_key (tables
                   with a sort key only), state ("held", "released", "absent"
                   or "corrupt"), free, owner, token, released, lease_ms,
                   last_write, deadline, claimed_by, client ("java" or
                   "python" for a record another lock client wrote), data,
                   data_encoding ("utf-8", or "base64" when the data is not
                   valid UTF-8) and error (corrupt records). last_write and deadline are
                   RFC 3339 times with milliseconds, left out when the record
                   has none; claimed_by is the owner of a waiter that claimed
                   the next turn, left out when none did
  --key KEY        the key, instead of the KEY operand (default DYNAMUTEX_KEY)
  --slots N        KEY names a semaphore of N permits (run --slots N): show it
                   as one entry, "holders: H of N" and one line per permit
                   (its holder, token and the limit the holder runs with),
                   read with one BatchGetItem; --json gives semaphore, slots,
                   holders and permits (index, limit and the fields above)
  --clock-bound D  this machine's clock is within D of true time: a held record
                   past its deadline by this clock, less D, is free
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command
  --format, --partition-key, --sort-key, --sort-key-value as for every command

"held" means the record is not released. The last write is the writer's
wall clock when it last wrote (acquired, renewed or released): a holder that
has not written for longer than its lease looks dead, and a run takes it
over after watching it for one more lease. That is a hint, not a proof: a
single read cannot tell a live holder from a dead one, and the writer's
clock may be wrong. The deadline is set by holders that ran with
--clock-bound: when it has passed, a run with --clock-bound takes the lock
over at once, and status --clock-bound reports the record free.

Exit codes: 0 when the record was read, and for a KEY without a record,
which is free (state "absent"); 1 when DynamoDB cannot be read or the record
is corrupt; 2 for usage errors and a missing table.

Examples:
  dynamutex status --table locks nightly-report
  dynamutex status --table locks nightly-report --json | jq -r .owner
`

// listHelp is `dynamutex help list`.
const listHelp = `Usage: dynamutex list [OPTIONS]

Show every lock record in the table, sorted by key: state, fencing token,
lease, last write, deadline, owner and data. Records of the Java and Python
lock clients show the client after the owner. Records that neither dynamutex
nor those clients wrote, or that are damaged, are listed as "corrupt" with
what is wrong. The permits of a semaphore (run --slots) are shown after
the locks as one line each: name, holders out of n (the largest limit a
holder runs with), and each holder's permit index, owner and token. It
reads the table with strongly consistent scans and writes nothing.

  --json           print a JSON array of objects with the fields of
                   'dynamutex status --json', then one object per semaphore
                   with the fields of 'dynamutex status --slots N --json'
  --clock-bound D  as for status: records past their deadline are free
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command
  --format, --partition-key, --sort-key, --sort-key-value as for every command

Exit codes: 0 on success, corrupt records included; 1 when DynamoDB cannot
be read; 2 for usage errors and a missing table.

Examples:
  dynamutex list --table locks
  dynamutex list --table locks --json | jq -r '.[] | select(.state == "held") | .key'
`

// createTableHelp is `dynamutex help create-table`.
const createTableHelp = `Usage: dynamutex create-table [OPTIONS]

Create the lock table: on-demand capacity, string partition key "key", and
TTL on "expires_at" so that DynamoDB deletes idle records. If the table
exists with that key, only make sure TTL is on; safe to run every time. An
existing table keeps its capacity mode, and a TTL that another lock client
put on its own attribute stays where it is. It prints what the table really
is: capacity mode, keys and TTL.

  --table, --region, --profile, --endpoint, -v, --verbose   as for every command
  --format, --partition-key, --sort-key, --sort-key-value as for every command

Examples:
  dynamutex create-table --table locks
  dynamutex create-table --endpoint http://localhost:8000
`
