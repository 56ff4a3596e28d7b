//go:build dynamodblocal

package localdb

const required = true
