// Package console is the tracker's page in the router console.
//
// It is the operator's view of the tracker (router link and session
// state, identity and announce URLs, totals and rates, charts over 1 h to
// 7 d, the busiest swarms, drops and errors by reason, store health) and
// the form that changes its live settings.
//
// The page is server-rendered (html/template, charts as inline SVG) so it
// reads without JavaScript; with JavaScript it refreshes itself and offers
// copy buttons. Every change is a POST carrying a per-process CSRF token;
// a password (HTTP Basic, throttled per address) guards the page when it
// is served beyond loopback, and requests that name another host (DNS
// rebinding) or come from another origin are refused. The console knows
// nothing of the tracker's internals: it renders what a Source reports.
package console
