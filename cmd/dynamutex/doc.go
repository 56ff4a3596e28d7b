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
//
// Options of run:
//
//	--key KEY        the lock to take (required)
//	--wait D         give up after D and exit 75 (default 0: wait as long as it takes)
//	--no-wait        one attempt: if the lock is held, exit 75 at once, like flock -n
//	--lease D        lease of the lock (default 20s); renewed every D/4, in danger after 3D/4
//	--grace D        time between SIGTERM and SIGKILL when the lock is lost (default 10s)
//	--data S         text stored with the lock, shown by status and list
//	--owner O        owner name stored with the lock (default host/pid/random)
//	--busy-exit-code N  exit code for a busy lock (default 75), like flock -E
//
// status and list take --json; status also takes --key instead of KEY.
//
// # Examples
//
//	# one report at a time across all machines; give up after a minute if one is still going
//	#   (unlike --no-wait, a waiting run takes over from a holder that crashed)
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
// --no-wait), starts CMD in a process group of its own with the tool's
// stdin, stdout and stderr, releases the lock when CMD exits, and exits with
// CMD's exit code (128+N if signal N killed it). Processes CMD left running
// in the background are not waited for.
//
// The Session's timings follow --lease in the proportions of the library's
// defaults: a renewal every lease/4, and the lock in danger when no renewal
// has been confirmed for 3/4 of the lease. If the lock is lost (someone took
// it over) or falls into danger (DynamoDB unreachable), run says why on
// stderr, sends SIGTERM to CMD's process group, SIGKILL after --grace, and
// exits 76. With the default 20 s lease, another process may take the lock
// over 5 s after the danger sign, so keep CMD's stopping time short. If the
// release finds the lock lost after CMD finished, run also exits 76: CMD may
// have run without exclusive access.
//
// SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to dynamutex are forwarded to
// CMD's process group; the lock is released once CMD has exited and the exit
// code is CMD's. One that arrives while run waits for the lock ends the wait:
// run exits 128+N (130 for SIGINT) without running CMD. Signals ignored when
// dynamutex starts, such as SIGHUP under nohup, stay ignored, in CMD too.
//
// A holder that died without releasing (kill -9, a lost machine) keeps the
// lock busy for --no-wait callers until a waiting run takes it over, one
// lease after that run starts watching the record, or until DynamoDB's TTL
// deletes the record (24 h or more). For cron jobs that must recover by
// themselves, prefer --wait with a duration longer than the lease, such as
// --wait 1m, to --no-wait.
//
// CMD is not in the terminal's foreground process group, so an interactive
// CMD that reads the terminal is stopped by SIGTTIN: run is for jobs.
//
// # status and list
//
// status makes one strongly consistent read of KEY's record; list scans the
// table with strongly consistent reads and sorts the records by key. Neither
// writes anything. The state of a record is "held" (not released: its holder
// may be alive, or may have died, which a single read cannot tell),
// "released", "absent" (no record: never taken, or its idle record expired;
// the lock is free) or "corrupt" (an item dynamutex did not write, or a
// damaged one). With --json, status prints an object and list an array of
// objects with the fields key, sort_key (tables with a sort key only), state,
// free, owner, token, released, lease_ms, data, data_encoding ("utf-8", or
// "base64" for data that is not valid UTF-8) and error (corrupt records);
// fields a state does not have are left out.
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
// DYNAMUTEX_TABLE, DYNAMUTEX_ENDPOINT, DYNAMUTEX_VERBOSE, and for run
// DYNAMUTEX_KEY, DYNAMUTEX_LEASE, DYNAMUTEX_WAIT, DYNAMUTEX_NO_WAIT,
// DYNAMUTEX_GRACE, DYNAMUTEX_OWNER, DYNAMUTEX_DATA and
// DYNAMUTEX_BUSY_EXIT_CODE. AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID and
// the rest work as for the AWS CLI (config.LoadDefaultConfig).
//
// The endpoint is --endpoint, else DYNAMUTEX_ENDPOINT, else the AWS SDK's
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's
// endpoint_url. With an endpoint and no credentials, dummy ones are used
// (DynamoDB Local checks none), and the region defaults to us-east-1.
// Looking for real ones ends at the EC2 instance metadata service: off EC2,
// set AWS_EC2_METADATA_DISABLED=true to skip it.
//
// run gives CMD the variables DYNAMUTEX_TOKEN (the fencing token, in
// decimal; it grows with every acquisition of KEY, so pass it to the systems
// CMD writes to and let them refuse lower ones), DYNAMUTEX_KEY,
// DYNAMUTEX_TABLE and DYNAMUTEX_OWNER, besides its own environment. A nested
// dynamutex inherits the table and owner from them; a nested run must be
// given --key, and refuses a DYNAMUTEX_KEY set by its enclosing run, which
// would make it wait for itself.
package main
