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

Examples:
  # one report at a time across all machines; give up after a minute if one is still going
  #   (unlike --no-wait, a waiting run takes over from a holder that crashed)
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
  DYNAMUTEX_TABLE, DYNAMUTEX_ENDPOINT, DYNAMUTEX_VERBOSE
  DYNAMUTEX_KEY, DYNAMUTEX_LEASE, DYNAMUTEX_WAIT, DYNAMUTEX_NO_WAIT, DYNAMUTEX_GRACE,
  DYNAMUTEX_OWNER, DYNAMUTEX_DATA, DYNAMUTEX_BUSY_EXIT_CODE      (run)
  AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ... as for the AWS CLI.
  The endpoint is --endpoint, else DYNAMUTEX_ENDPOINT, else the AWS SDK's
  AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's endpoint_url.
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
exit with CMD's exit code (128+N if a signal N killed it).

  --key KEY        the lock to take (required)
  --wait D         give up after D and exit 75, such as 30s or 10m
                   (default 0: wait as long as it takes)
  --no-wait        one attempt: if the lock is held, exit 75 at once, like flock -n
  --lease D        lease of the lock (default 20s), a whole number of milliseconds.
                   dynamutex renews it every D/4; if no renewal has landed for 3D/4,
                   the lock is in danger and CMD is stopped. A holder that dies is
                   taken over by a waiting run one lease after it starts watching.
  --grace D        time between SIGTERM and SIGKILL when the lock is lost (default 10s)
  --data S         text stored with the lock, shown by status and list
  --owner O        owner name stored with the lock (default host/pid/random)
  --busy-exit-code N  exit code for a busy lock (default 75), like flock -E
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command

CMD runs in a process group of its own, with the tool's stdin, stdout and
stderr, and with DYNAMUTEX_TOKEN, DYNAMUTEX_KEY, DYNAMUTEX_TABLE and
DYNAMUTEX_OWNER added to the environment. Pass DYNAMUTEX_TOKEN to the
systems CMD writes to and let them refuse tokens lower than one they have
seen: that keeps a stopped-too-late CMD from doing harm.

The lock is released when CMD exits; processes CMD left running in the
background are not waited for.

Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to dynamutex are forwarded
to CMD's process group; the lock is released once CMD has exited, and the
exit code is CMD's. If one arrives while waiting for the lock, dynamutex
stops waiting and exits 128+N without running CMD. Signals ignored when
dynamutex starts (SIGHUP under nohup) stay ignored, in CMD too.

Lost lock: if the lock is taken over behind dynamutex's back, or renewals do
not land for 3/4 of the lease (DynamoDB unreachable), dynamutex says why on
stderr, sends SIGTERM to CMD's process group, SIGKILL after --grace, and
exits 76. Keep --grace short enough for your CMD's stopping time: with the
default 20s lease another process may take the lock over 5s after the danger
sign. If the release finds the lock lost after CMD finished, it also exits 76:
CMD may have run without exclusive access.

A holder that died without releasing (kill -9, lost machine) keeps the lock
busy for --no-wait callers until a waiting run takes it over, or DynamoDB's
TTL deletes its record (24 h or more). For cron jobs that must recover by
themselves, prefer --wait with a duration longer than the lease, such as
--wait 1m, to --no-wait.

Examples:
  */5 * * * * dynamutex run --table locks --key nightly-report --wait 1m -- /usr/local/bin/report
  dynamutex run --key deploy/prod --wait 10m --data "$USER" -- ./deploy.sh
  dynamutex run --key db-migrate -- sh -c 'migrate --fence "$DYNAMUTEX_TOKEN"'

` + exitCodesHelp + `
` + environmentHelp

// statusHelp is `dynamutex help status`.
const statusHelp = `Usage: dynamutex status [OPTIONS] KEY

Show the record of the lock KEY: its state, owner, fencing token, lease and
data. It makes one strongly consistent read and writes nothing.

  --json           print a JSON object with the fields key, sort_key (tables
                   with a sort key only), state ("held", "released", "absent"
                   or "corrupt"), free, owner, token, released, lease_ms, data,
                   data_encoding ("utf-8", or "base64" when the data is not
                   valid UTF-8) and error (corrupt records)
  --key KEY        the key, instead of the KEY operand (default DYNAMUTEX_KEY)
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command

"held" means the record is not released. A holder that died keeps it held
until a waiting run takes it over, one lease after that run starts watching;
a single read cannot tell a live holder from a dead one.

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
lease, owner and data. Records that dynamutex did not write, or that are
damaged, are listed as "corrupt" with what is wrong. It reads the table with
strongly consistent scans and writes nothing.

  --json           print a JSON array of objects with the fields of
                   'dynamutex status --json'
  --table, --region, --profile, --endpoint, -v, --verbose   as for every command

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
exists with that key, only make sure TTL is on; safe to run every time.

  --table, --region, --profile, --endpoint, -v, --verbose   as for every command

Examples:
  dynamutex create-table --table locks
  dynamutex create-table --endpoint http://localhost:8000
`
