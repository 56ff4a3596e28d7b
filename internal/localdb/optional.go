//go:build !dynamodblocal

package localdb

const required = false
