// Command dynamutex is a distributed flock(1) on Amazon DynamoDB, for cron
// jobs, deploys and scripts: it runs a command while holding a lock that
// every machine sharing the table respects.
//
// Install it with
//
//	go install github.com/dynamutex/dynamutex/cmd/dynamutex@latest
//
// # Usage
//
//	dynamutex run [OPTIONS] --key KEY -- CMD [ARGS...]   run CMD while holding the lock KEY
//	dynamutex status [OPTIONS] KEY                       show who holds KEY
//	dynamutex list [OPTIONS]                             show every lock record in the table
//	dynamutex create-table [OPTIONS]                     create the lock table (idempotent)
//	dynamutex help [COMMAND]                             show the help of a command
//
// Options of every command, before or after the command name:
//
//	--table T        lock table (default "dynamutex_locks")
//	--region R       AWS region (default: from AWS_REGION or your AWS config)
//	--profile P      AWS shared-config profile (default: AWS_PROFILE, or "default")
//	--endpoint URL   DynamoDB endpoint, such as http://localhost:8000 for DynamoDB Local
//	-v, --verbose    progress and the library's log on stderr
//	--format F       record format: native (default), java or python
//	--partition-key A  the table's partition-key attribute (default "key")
//	--sort-key A       the table's sort-key attribute (default: none)
//	--sort-key-value V the lock's sort-key value, for a table with a sort key
//
// --format java or --format python shares a table with the Java
// AmazonDynamoDBLockClient or python-dynamodb-lock: dynamutex then writes
// records that client reads, waits on and takes over, and create-table makes
// the table it expects. With --format python the key options default to
// python-dynamodb-lock's lock_key, sort_key and "-". Records those clients
// wrote are waited on and taken over by their own rule in any format (see
// status and list below).
//
// Options of run:
//
//	--key KEY        the lock to take (required)
//	--wait D         give up after D and exit 75 (default 0: wait as long as it takes)
//	--no-wait        do not wait, like flock -n: if the lock is held, exit 75; a holder
//	                 that looks dead is watched for one lease first
//	--clock-bound D  this machine's wall clock is within D of true time (default: none)
//	--lease D        lease of the lock (default 20s, at least 100ms); renewed every D/4, in danger after 3D/4
//	--grace D        time between SIGTERM and SIGKILL when the lock is lost or in danger
//	                 (default: half of lease − 3/4 lease, 2.5s at the default lease;
//	                 longer than 3/4 of that margin is refused)
//	--data S         text stored with the lock, shown by status and list
//	--owner O        owner name stored with the lock (default host/pid/random)
//	--busy-exit-code N  exit code for a busy lock (default 75), like flock -E
//	--session-lease  hold the lock under a Session record (WithSessionLease)
//
// status and list take --json and --clock-bound; status also takes --key
// instead of KEY.
//
// # Examples
//
//	# one report at a time across all machines; skip this turn if one is still going.
//	#   A run that finds the holder silent for longer than its lease watches it for
//	#   one more lease (20s by default) and then takes a crashed holder's lock over
//	*/5 * * * * dynamutex run --table locks --key nightly-report --no-wait -- /usr/local/bin/report
//
//	# the same on machines whose clocks are bounded (Amazon Time Sync, chrony with
//	#   ClockBound): a crashed holder that declared a bound too is taken over at once
//	*/5 * * * * dynamutex run --table locks --key nightly-report --no-wait --clock-bound 10ms -- /usr/local/bin/report
//
//	# or wait up to a minute for the previous report
//	*/5 * * * * dynamutex run --table locks --key nightly-report --wait 1m -- /usr/local/bin/report
//
//	# wait up to 10 minutes for the previous deploy; show who deploys in 'status'
//	dynamutex run --key deploy/prod --wait 10m --data "$USER" -- ./deploy.sh
//
//	dynamutex create-table --table locks
//	dynamutex status --table locks nightly-report
//	dynamutex list --table locks --json
//
//	# against DynamoDB Local
//	dynamutex --endpoint http://localhost:8000 create-table
//
// # How run behaves
//
// run takes the lock (waiting with jittered backoff, or once with
// --no-wait; a run that has to wait says so once on stderr, with who holds
// the lock), starts CMD in a process group of its own with the tool's
// stdin, stdout and stderr, releases the lock when CMD exits, and exits with
// CMD's exit code (128+N if signal N killed it). Processes CMD left running
// in the background are not waited for. If DynamoDB cannot be reached for
// the release, run says so and still exits with CMD's code: the lock stays
// held until its lease runs out, and others take it over after that.
//
// The Session's timings follow --lease in the proportions of the library's
// defaults: a renewal every lease/4, and the lock in danger when no renewal
// has been confirmed for 3/4 of the lease. If the lock is lost (someone took
// it over) or falls into danger (DynamoDB unreachable), run says why on
// stderr, sends SIGTERM to CMD's process group, SIGKILL after --grace, and
// exits 76. CMD is dead before any other process may take the lock over:
// with the default 20 s lease, another process may take the lock over 5 s
// after the danger sign, and the grace is 2.5 s; a --grace longer than 3/4
// of that margin is refused, and a late danger sign shortens the grace so
// that SIGKILL lands a quarter margin before the earliest takeover. If the
// release finds the lock lost after CMD finished, run also exits 76: CMD may
// have run without exclusive access. A dynamutex that was itself frozen
// cannot stop CMD in time: fencing with DYNAMUTEX_TOKEN covers that case.
//
// SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to dynamutex are forwarded to
// CMD's process group; the lock is released once CMD has exited and the exit
// code is CMD's. One that arrives while run waits for the lock ends the wait:
// run exits 128+N (130 for SIGINT) without running CMD. Signals ignored when
// dynamutex starts, such as SIGHUP under nohup, stay ignored, in CMD too.
//
// CMD is not in the terminal's foreground process group, so an interactive
// CMD that reads the terminal is stopped by SIGTTIN: run is for jobs.
//
// # Crashed holders
//
// A holder that died without releasing (kill -9, a lost machine) stops
// writing to its record. Every write carries the writer's wall clock, and a
// live holder renews several times a lease, so a record not written for
// longer than its lease looks dead. A --no-wait run that finds one keeps its
// Session, sleeps one lease (the holder's) and tries again. The Session
// remembers when it first saw that version of the record: if the record did
// not change, the second attempt takes the lock over, in one write; if it
// changed, the holder is alive (or someone else took the lock) and the run
// exits 75. A holder that wrote within its lease, or a record written by an
// earlier release or by the Java or Python lock client, which has no write
// time, is busy at once. A run without
// --no-wait takes a dead holder over the same way, one lease after it starts
// watching. Cron jobs with --no-wait therefore recover by themselves; before
// the write time existed, they stayed busy until DynamoDB's TTL deleted the
// record, 24 h or more later.
//
// --clock-bound D (or DYNAMUTEX_CLOCK_BOUND) declares that this machine's
// wall clock is within D of true time (dynamutex.WithClockBound). A run with
// a bound writes a deadline into every acquisition and renewal: its clock
// plus the lease plus D. A run with a bound takes over a record whose
// deadline its own clock, less its own D, has passed, at its first attempt
// and without watching; status and list with a bound report such a record
// free. When every run on a key declares a bound, a crashed holder is taken
// over as soon as its lease and both bounds have passed since its last
// write. Records without a deadline are watched as above.
//
// Declare a bound only where the clock really is bounded and monitored, such
// as EC2 with Amazon Time Sync, or chrony with AWS ClockBound, and give the
// bound they report. A wrong bound costs what a lock exists to prevent: two
// holders at once. dynamutex compares its clock with the Date header of
// DynamoDB's replies and, when they disagree by more than D plus a second
// plus the round trip, warns on stderr and stops taking over by clock until
// they agree for a lease again. That catches a clock far off, not one a
// little off.
//
// # status and list
//
// status makes one strongly consistent read of KEY's record; list scans the
// table with strongly consistent reads and sorts the records by key. Neither
// writes anything. They show each record's last write (the writer's clock,
// as an age and a time) and, for holders with a bound, its deadline. The
// state of a record is "held" (not released: its holder may be alive, or
// may have died, which a single read cannot tell),
// "released", "absent" (no record: never taken, or its idle record expired;
// the lock is free) or "corrupt" (an item that neither dynamutex nor the
// Java or Python lock client wrote, or a damaged one). A record of one of
// those clients is "held" or, released by Java with the record kept,
// "released", and names the client; a run takes it over by that client's
// own rule, after watching it unchanged for its lease. With --json, status prints an object and list an array of
// objects with the fields key, sort_key (tables with a sort key only), state,
// free, owner, token, released, lease_ms, last_write and deadline (RFC 3339
// with milliseconds), claimed_by (the owner of a waiter that claimed the
// next turn), client ("java" or "python" for another lock client's record),
// data, data_encoding ("utf-8", or "base64" for data
// that is not valid UTF-8) and error (corrupt records); fields a record does
// not have are left out.
//
// # Exit codes
//
//	0..255  run: CMD's exit code; 128+N if a signal N killed CMD, as in shells
//	0       status, list, create-table: success (status also for a KEY with no record: it is free)
//	1       other failure: DynamoDB unreachable, credentials refused, status of a corrupt record
//	2       usage error: bad flags or values, missing table (create it with
//	        'dynamutex create-table --table T'), bad AWS configuration
//	75      run: lock busy: held elsewhere with --no-wait, or --wait ran out
//	        (EX_TEMPFAIL; change it with --busy-exit-code)
//	76      run: the lock was lost or in danger while CMD ran; CMD was stopped
//	126     run: CMD cannot be executed
//	127     run: CMD not found
//	128+N   run: signal N arrived while waiting for the lock (130 for SIGINT); CMD did not run
//
// dynamutex's own codes can collide with CMD's; each comes with a message on
// stderr.
//
// # Environment
//
// Every option can come from a variable; an option on the command line wins:
// DYNAMUTEX_TABLE, DYNAMUTEX_VERBOSE,
// DYNAMUTEX_PARTITION_KEY, DYNAMUTEX_SORT_KEY, DYNAMUTEX_SORT_KEY_VALUE, and for run
// DYNAMUTEX_KEY, DYNAMUTEX_LEASE, DYNAMUTEX_WAIT, DYNAMUTEX_NO_WAIT,
// DYNAMUTEX_GRACE, DYNAMUTEX_OWNER, DYNAMUTEX_DATA,
// DYNAMUTEX_BUSY_EXIT_CODE and DYNAMUTEX_SESSION_LEASE, and for run, status and list
// DYNAMUTEX_CLOCK_BOUND. AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID and
// the rest work as for the AWS CLI (config.LoadDefaultConfig).
//
// The endpoint is --endpoint, else the AWS SDK's AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL or the profile's endpoint_url. For DynamoDB Local, as
// `make local` prints:
//
//	export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_REGION=us-east-1 \
//	  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
//
// With an endpoint and no credentials, dummy ones are used (DynamoDB Local
// checks none), and the region defaults to us-east-1. Without an endpoint,
// a missing region or missing credentials, like a region the SDK refuses,
// end in a message that says what to set, and exit 2 before any request.
// Looking for real credentials ends at the EC2 instance metadata service:
// off EC2, set AWS_EC2_METADATA_DISABLED=true to skip it.
//
// run gives CMD the variables DYNAMUTEX_TOKEN (the fencing token, in
// decimal; it grows with every acquisition of KEY, so pass it to the systems
// CMD writes to and let them refuse lower ones), DYNAMUTEX_KEY,
// DYNAMUTEX_TABLE and DYNAMUTEX_OWNER, besides its own environment. A nested
// dynamutex inherits the table and owner from them; a nested run must be
// given --key, and refuses a DYNAMUTEX_KEY set by its enclosing run, which
// would make it wait for itself.
package main
