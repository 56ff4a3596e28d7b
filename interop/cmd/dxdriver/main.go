// Command dxdriver drives a dynamutex Session over stdin/stdout, speaking the
// JSON-lines protocol of the Java and Python drivers (interop/README.md), so
// that dynamutex holders can run as separate processes beside the other
// clients and be killed with SIGKILL or paused with SIGSTOP like them.
//
// It takes a "format" field (native, java, python) that chooses the Session's
// dynamutex.WithFormat and with it the table's key names, and answers a
// "state" op with what ended a lock's context, if anything did. The interop
// tests build it themselves; nothing needs installing.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex/interop"
)

func main() {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		fmt.Fprintln(os.Stderr, "dxdriver: AWS_ENDPOINT_URL_DYNAMODB is not set")
		os.Exit(2)
	}
	owner := os.Getenv("INTEROP_OWNER")
	if owner == "" {
		owner = fmt.Sprintf("dynamutex-%d", os.Getpid())
	}
	d := newDriver(client(endpoint), owner)
	out := bufio.NewWriter(os.Stdout)
	reply(out, interop.Reply{OK: true, Op: "ready", Client: "dynamutex", Version: "dev", Owner: owner})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 16<<20)
	for in.Scan() {
		var c interop.Command
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			reply(out, interop.Reply{Op: "?", Error: err.Error(), Class: "BadCommand"})
			continue
		}
		if c.Op == "exit" {
			break
		}
		reply(out, d.handle(c))
	}
	// Exit without closing the Sessions: a driver told to exit leaves the
	// table as it is, as the other drivers do.
	os.Exit(0)
}

// client is a DynamoDB client for the endpoint, with the region and keys
// the harness puts in the environment.
func client(endpoint string) *dynamodb.Client {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"),
			os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
		HTTPClient: &http.Client{},
	})
}

// reply writes r with the wall clock of the moment it is written, as the
// other drivers stamp theirs.
func reply(out *bufio.Writer, r interop.Reply) {
	r.TNS = time.Now().UnixNano()
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(interop.Reply{Op: r.Op, Error: err.Error(), Class: "BadReply", TNS: r.TNS})
	}
	out.Write(append(b, '\n'))
	out.Flush()
}
