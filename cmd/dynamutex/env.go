package main

// Environment variables. Every option of dynamutex can come from one, so
// that cron tables, systemd units and CI jobs can configure the tool once;
// an option given on the command line wins over its variable. --region,
// --profile and --endpoint have none of their own: the AWS SDK already
// reads AWS_REGION, AWS_PROFILE and AWS_ENDPOINT_URL_DYNAMODB, and one
// variable that every SDK program honours beats a second one only this
// tool knows.
var flagEnv = map[string]string{
	"table":          "DYNAMUTEX_TABLE",
	"verbose":        "DYNAMUTEX_VERBOSE",
	"key":            "DYNAMUTEX_KEY",
	"lease":          "DYNAMUTEX_LEASE",
	"wait":           "DYNAMUTEX_WAIT",
	"no-wait":        "DYNAMUTEX_NO_WAIT",
	"grace":          "DYNAMUTEX_GRACE",
	"owner":          "DYNAMUTEX_OWNER",
	"data":           "DYNAMUTEX_DATA",
	"busy-exit-code": "DYNAMUTEX_BUSY_EXIT_CODE",
	"clock-bound":    "DYNAMUTEX_CLOCK_BOUND",
	"partition-key":  "DYNAMUTEX_PARTITION_KEY",
	"sort-key":       "DYNAMUTEX_SORT_KEY",
	"sort-key-value": "DYNAMUTEX_SORT_KEY_VALUE",
	"format":         "DYNAMUTEX_FORMAT",
	"session-lease":  "DYNAMUTEX_SESSION_LEASE",
}

// Variables that `dynamutex run` sets for CMD, describing the lock it holds.
// DYNAMUTEX_KEY, DYNAMUTEX_TABLE and DYNAMUTEX_OWNER double as configuration
// of a nested dynamutex, which is why run refuses a key inherited this way
// (see inheritedKey).
const (
	envToken = "DYNAMUTEX_TOKEN"
	envKey   = "DYNAMUTEX_KEY"
	envTable = "DYNAMUTEX_TABLE"
	envOwner = "DYNAMUTEX_OWNER"
)
