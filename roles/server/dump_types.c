/*
 * The names and rdata layouts the cache dump knows, in one table that
 * the writer (dump_format.c) and the parser (dump_line.c) both read, so
 * what is written is what can be read back.
 */
#include "roles/server/dump_impl.h"

#define TYPE_SRV	33

const struct rrtype dump_rrtypes[] = {
	{ DNS_TYPE_A, "A", "a" },
	{ DNS_TYPE_NS, "NS", "n" },
	{ 3, NULL, "n" },			/* MD */
	{ 4, NULL, "n" },			/* MF */
	{ DNS_TYPE_CNAME, "CNAME", "n" },
	{ DNS_TYPE_SOA, "SOA", "nn44444" },
	{ 7, NULL, "n" },			/* MB */
	{ 8, NULL, "n" },			/* MG */
	{ 9, NULL, "n" },			/* MR */
	{ DNS_TYPE_PTR, "PTR", "n" },
	{ 14, NULL, "nn" },			/* MINFO */
	{ DNS_TYPE_MX, "MX", "2n" },
	{ DNS_TYPE_TXT, "TXT", "t" },
	{ 17, NULL, "nn" },			/* RP */
	{ 18, NULL, "2n" },			/* AFSDB */
	{ 21, NULL, "2n" },			/* RT */
	{ DNS_TYPE_AAAA, "AAAA", "6" },
	{ 26, NULL, "2nn" },			/* PX */
	{ TYPE_SRV, "SRV", "222n" },
	{ 35, NULL, "22sssn" },			/* NAPTR */
	{ DNS_TYPE_OPT, "OPT", NULL },
	{ DNS_TYPE_DS, "DS", NULL },		/* DNSSEC types: RFC 3597 hex */
	{ DNS_TYPE_RRSIG, "RRSIG", NULL },
	{ DNS_TYPE_NSEC, "NSEC", NULL },
	{ DNS_TYPE_DNSKEY, "DNSKEY", NULL },
	{ DNS_TYPE_NSEC3, "NSEC3", NULL },
	{ DNS_TYPE_ANY, "ANY", NULL },
};

const size_t dump_nrrtypes = sizeof(dump_rrtypes) / sizeof(dump_rrtypes[0]);

const struct mnemonic dump_classes[] = {
	{ DNS_CLASS_IN, "IN" },
};

const size_t dump_nclasses = sizeof(dump_classes) / sizeof(dump_classes[0]);

const struct mnemonic dump_rcodes[] = {
	{ DNS_RCODE_NOERROR, "NOERROR" }, { DNS_RCODE_FORMERR, "FORMERR" },
	{ DNS_RCODE_SERVFAIL, "SERVFAIL" }, { DNS_RCODE_NXDOMAIN, "NXDOMAIN" },
	{ DNS_RCODE_NOTIMP, "NOTIMP" }, { DNS_RCODE_REFUSED, "REFUSED" },
};

const size_t dump_nrcodes = sizeof(dump_rcodes) / sizeof(dump_rcodes[0]);

const struct rrtype *
dump_rrtype_find(uint16_t type)
{
	for (size_t i = 0; i < dump_nrrtypes; i++)
		if (dump_rrtypes[i].type == type)
			return &dump_rrtypes[i];
	return NULL;
}
