// Package shared is the infrastructure several HTTVPS services use.
package shared
