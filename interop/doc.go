// Package interop drives the real Java AmazonDynamoDBLockClient (1.4.0) and
// python-dynamodb-lock (0.9.1) as child processes against DynamoDB Local, so
// that what they write and how they behave can be tested from Go.
//
// Each client runs in a driver process (interop/java, interop/python) that
// reads one JSON command per line on stdin and answers with one JSON reply per
// line on stdout; interop/README.md describes the protocol and FORMATS.md what
// each client writes. scripts/install-interop.sh installs both clients; the
// tests fail, never skip, when they are missing or no endpoint is set.
package interop
