package main

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/interop"
)

// get reads c's record with Session.Inspect, which names the client that
// wrote it, and its version attribute with a plain GetItem.
func (d *driver) get(c interop.Command) (interop.Reply, error) {
	s, err := d.session(c)
	if err != nil {
		return interop.Reply{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sort []string
	if c.Sort != "" || c.Format == "python" {
		sort = append(sort, orDefault(c.Sort, "-"))
	}
	info, err := s.Inspect(ctx, c.Key, sort...)
	if errors.Is(err, dynamutex.ErrNoRecord) {
		return interop.Reply{OK: true}, nil
	}
	if err != nil {
		return interop.Reply{}, err
	}
	r := lockInfo(info)
	r.OK, r.Found = true, true
	r.RVN, err = d.version(c)
	return r, err
}

// list reads the whole table with Session.List.
func (d *driver) list(c interop.Command) (interop.Reply, error) {
	s, err := d.session(c)
	if err != nil {
		return interop.Reply{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := interop.Reply{OK: true}
	for info, err := range s.List(ctx) {
		if err != nil {
			return interop.Reply{}, err
		}
		r.Locks = append(r.Locks, lockInfo(info))
	}
	return r, nil
}

func lockInfo(i dynamutex.LockInfo) interop.Reply {
	r := interop.Reply{Key: i.Key, Sort: i.SortKey, Owner: i.Owner, Token: i.Token, LeaseMS: i.Lease.Milliseconds(),
		Released: i.Released, Client: i.Client}
	if i.Err != nil {
		r.Error = i.Err.Error()
	}
	return r
}

// version reads the version attribute of c's record in c's format: the one
// every write that takes or keeps the lock replaces.
func (d *driver) version(c interop.Command) (string, error) {
	key := map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: c.Key}}
	attr := map[string]string{"": "version", "native": "version", "java": "recordVersionNumber",
		"python": "record_version_number"}[c.Format]
	if c.Format == "python" {
		key = map[string]types.AttributeValue{"lock_key": &types.AttributeValueMemberS{Value: c.Key},
			"sort_key": &types.AttributeValueMemberS{Value: orDefault(c.Sort, "-")}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(c.Table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	if v, ok := out.Item[attr].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
