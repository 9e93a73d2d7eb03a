//! The special-purpose address registry: which IP addresses egress may never reach, which it
//! may reach only when the operator opts in, and which are the public internet.
//!
//! The tables below follow the IANA IPv4 and IPv6 Special-Purpose Address Registries (entry
//! names as the registries give them), plus the multicast blocks (224.0.0.0/4, ff00::/8), the
//! deprecated IPv6 site-local block (fec0::/10) and, for IPv6, everything outside the global
//! unicast space 2000::/3 that no registry entry names. IPv4 addresses embedded in IPv6 are
//! extracted and classified as IPv4: IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible (`::/96`,
//! deprecated), the NAT64 well-known prefix (`64:ff9b::/96`), 6to4 (`2002::/16`, the IPv4
//! address in bits 16–47) and Teredo (`2001::/32`, the server's IPv4 address in bits 32–63
//! and the client's in the last 32 bits, obfuscated by XOR with all ones).
//!
//! The policy, one [`RangeKind`] per entry:
//!
//! | kind | examples | reachable |
//! |---|---|---|
//! | loopback, private network, shared address space | 127/8, ::1, 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 100.64/10 | only with the connection's `allow_private_network` (an on-premises system, a local simulator) |
//! | everything else in the tables | 0/8, 169.254/16, fe80::/10, 192.0.0/24, documentation, benchmarking, multicast, 240/4, broadcast, 100::/64, 5f00::/16, … | never |
//!
//! Why link-local is never reachable, not even with the opt-in: no maintenance system is
//! served from a link-local address, and that is where the cloud metadata services live
//! (169.254.169.254, fe80::a9fe:a9fe). Why an embedded address counts as the address it
//! embeds: a socket to `::ffff:127.0.0.1` talks to 127.0.0.1. Only the IPv4-mapped form may
//! reach an opted-in private address; NAT64, 6to4, Teredo and IPv4-compatible forms of a
//! private or loopback address are refused always (RFC 6052 forbids the well-known NAT64
//! prefix for non-global IPv4 addresses, and the others are not how an on-premises system is
//! reached). The translation prefix 64:ff9b:1::/48 is refused always: where it embeds the
//! IPv4 address depends on the local network's choice of prefix length, so the address it
//! reaches cannot be known here.
//!
//! This module only classifies; it never resolves a name and never opens a connection.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a special-purpose range is for, and so whether egress may reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RangeKind {
    /// "This network" (0.0.0.0/8) and the IPv6 unspecified address (::/128).
    ThisNetwork,
    /// The host itself: 127.0.0.0/8 and ::1.
    Loopback,
    /// Private-use (10/8, 172.16/12, 192.168/16), unique-local (fc00::/7) and the
    /// deprecated site-local block (fec0::/10): an on-premises network.
    PrivateNetwork,
    /// Shared address space between a carrier and its customers (100.64.0.0/10).
    SharedAddressSpace,
    /// Link-local addresses (169.254/16, fe80::/10), where cloud metadata services answer.
    LinkLocal,
    /// IETF protocol assignments, anycast services and translation prefixes (192.0.0.0/24,
    /// AS112, AMT, 2001::/23, 64:ff9b:1::/48, …): infrastructure, not a system's API.
    ProtocolAssignment,
    /// Documentation ranges (TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20).
    Documentation,
    /// Benchmarking ranges (198.18.0.0/15, 2001:2::/48).
    Benchmarking,
    /// Multicast (224.0.0.0/4, ff00::/8).
    Multicast,
    /// Reserved for future use, deprecated or unallocated (240/4, 6to4 relay anycast,
    /// ORCHID, SRv6 SIDs, IPv6 outside 2000::/3, …).
    Reserved,
    /// The limited broadcast address 255.255.255.255.
    Broadcast,
    /// The IPv6 discard-only prefix (100::/64).
    Discard,
}

impl RangeKind {
    /// Whether the connection's `allow_private_network` opt-in makes this kind reachable.
    pub const fn opt_in(self) -> bool {
        matches!(self, Loopback | PrivateNetwork | SharedAddressSpace)
    }

    /// The kind in a few words, as a denial shows it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ThisNetwork => "this-network",
            Loopback => "loopback",
            PrivateNetwork => "private network",
            SharedAddressSpace => "shared address space",
            LinkLocal => "link-local",
            ProtocolAssignment => "protocol assignment",
            Documentation => "documentation",
            Benchmarking => "benchmarking",
            Multicast => "multicast",
            Reserved => "reserved",
            Broadcast => "broadcast",
            Discard => "discard-only",
        }
    }
}

impl fmt::Display for RangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an IPv4 address is embedded in an IPv6 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Embedding {
    /// IPv4-mapped, `::ffff:a.b.c.d`.
    Mapped,
    /// IPv4-compatible (deprecated), `::a.b.c.d`.
    Compatible,
    /// The NAT64 well-known prefix, `64:ff9b::a.b.c.d`.
    Nat64,
    /// 6to4, `2002:aabb:ccdd::/48`.
    SixToFour,
    /// Teredo's server address (bits 32–63 of `2001::/32`).
    TeredoServer,
    /// Teredo's client address (the last 32 bits of `2001::/32`, XOR all ones).
    TeredoClient,
}

impl Embedding {
    const fn as_str(self) -> &'static str {
        match self {
            Embedding::Mapped => "IPv4-mapped",
            Embedding::Compatible => "IPv4-compatible",
            Embedding::Nat64 => "NAT64",
            Embedding::SixToFour => "6to4",
            Embedding::TeredoServer => "Teredo server",
            Embedding::TeredoClient => "Teredo client",
        }
    }
}

/// One registry entry: a prefix, its kind and the registry's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    prefix: Prefix,
    kind: RangeKind,
    name: &'static str,
}

impl Entry {
    /// The entry's kind.
    pub const fn kind(&self) -> RangeKind {
        self.kind
    }

    /// The registry's name of the entry (`"Documentation (TEST-NET-3)"`).
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.prefix, self.name, self.kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    V4(u32, u8),
    V6(u128, u8),
}

impl Prefix {
    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Prefix::V4(net, len), IpAddr::V4(v4)) => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                u32::from(v4) & mask == net
            }
            (Prefix::V6(net, len), IpAddr::V6(v6)) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                u128::from(v6) & mask == net
            }
            _ => false,
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Prefix::V4(net, len) => write!(f, "{}/{len}", Ipv4Addr::from(net)),
            Prefix::V6(net, len) => write!(f, "{}/{len}", Ipv6Addr::from(net)),
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8, kind: RangeKind, name: &'static str) -> Entry {
    Entry {
        prefix: Prefix::V4(u32::from_be_bytes([a, b, c, d]), len),
        kind,
        name,
    }
}

const fn v6(net: u128, len: u8, kind: RangeKind, name: &'static str) -> Entry {
    Entry {
        prefix: Prefix::V6(net, len),
        kind,
        name,
    }
}

use RangeKind::{
    Benchmarking, Broadcast, Discard, Documentation, LinkLocal, Loopback, Multicast,
    PrivateNetwork, ProtocolAssignment, Reserved, SharedAddressSpace, ThisNetwork,
};

/// The IPv4 table; the first matching entry wins, so sub-entries come before the block that
/// holds them.
#[rustfmt::skip]
const IPV4: &[Entry] = &[
    v4(0, 0, 0, 0, 32, ThisNetwork, "This host on this network"),
    v4(0, 0, 0, 0, 8, ThisNetwork, "This network"),
    v4(10, 0, 0, 0, 8, PrivateNetwork, "Private-Use"),
    v4(100, 64, 0, 0, 10, SharedAddressSpace, "Shared Address Space"),
    v4(127, 0, 0, 0, 8, Loopback, "Loopback"),
    v4(169, 254, 0, 0, 16, LinkLocal, "Link Local"),
    v4(172, 16, 0, 0, 12, PrivateNetwork, "Private-Use"),
    v4(192, 0, 0, 0, 29, ProtocolAssignment, "IPv4 Service Continuity Prefix"),
    v4(192, 0, 0, 8, 32, ProtocolAssignment, "IPv4 dummy address"),
    v4(192, 0, 0, 9, 32, ProtocolAssignment, "Port Control Protocol Anycast"),
    v4(192, 0, 0, 10, 32, ProtocolAssignment, "Traversal Using Relays around NAT Anycast"),
    v4(192, 0, 0, 170, 32, ProtocolAssignment, "NAT64/DNS64 Discovery"),
    v4(192, 0, 0, 171, 32, ProtocolAssignment, "NAT64/DNS64 Discovery"),
    v4(192, 0, 0, 0, 24, ProtocolAssignment, "IETF Protocol Assignments"),
    v4(192, 0, 2, 0, 24, Documentation, "Documentation (TEST-NET-1)"),
    v4(192, 31, 196, 0, 24, ProtocolAssignment, "AS112-v4"),
    v4(192, 52, 193, 0, 24, ProtocolAssignment, "AMT"),
    v4(192, 88, 99, 0, 24, Reserved, "Deprecated (6to4 Relay Anycast)"),
    v4(192, 168, 0, 0, 16, PrivateNetwork, "Private-Use"),
    v4(192, 175, 48, 0, 24, ProtocolAssignment, "Direct Delegation AS112 Service"),
    v4(198, 18, 0, 0, 15, Benchmarking, "Benchmarking"),
    v4(198, 51, 100, 0, 24, Documentation, "Documentation (TEST-NET-2)"),
    v4(203, 0, 113, 0, 24, Documentation, "Documentation (TEST-NET-3)"),
    v4(224, 0, 0, 0, 4, Multicast, "Multicast"),
    v4(255, 255, 255, 255, 32, Broadcast, "Limited Broadcast"),
    v4(240, 0, 0, 0, 4, Reserved, "Reserved"),
];

/// The IPv6 entries checked before any embedded IPv4 address is looked at.
#[rustfmt::skip]
const IPV6: &[Entry] = &[
    v6(0, 128, ThisNetwork, "Unspecified Address"),
    v6(1, 128, Loopback, "Loopback Address"),
    v6(0x0064_ff9b_0001 << 80, 48, ProtocolAssignment, "Local-use IPv4/IPv6 Translation"),
    v6(0x0100 << 112, 64, Discard, "Discard-Only Address Block"),
    v6((0x0100 << 112) | (1 << 64), 64, Reserved, "Dummy IPv6 Prefix"),
    v6(0x2001_0002 << 96, 48, Benchmarking, "Benchmarking"),
    v6(0x2001_0db8 << 96, 32, Documentation, "Documentation"),
    v6(0x2620_004f_8000 << 80, 48, ProtocolAssignment, "Direct Delegation AS112 Service"),
    v6(0x3fff << 112, 20, Documentation, "Documentation"),
    v6(0x5f00 << 112, 16, Reserved, "Segment Routing (SRv6) SIDs"),
    v6(0xfc00 << 112, 7, PrivateNetwork, "Unique-Local"),
    v6(0xfe80 << 112, 10, LinkLocal, "Link-Local Unicast"),
    v6(0xfec0 << 112, 10, PrivateNetwork, "Site-Local (deprecated)"),
    v6(0xff00 << 112, 8, Multicast, "Multicast"),
];

/// The entries of 2001::/23 besides Teredo and benchmarking, checked after the embedded
/// forms; the first match wins.
#[rustfmt::skip]
const IETF_PROTOCOL_ASSIGNMENTS: &[Entry] = &[
    v6((0x2001_0001 << 96) | 1, 128, ProtocolAssignment, "Port Control Protocol Anycast"),
    v6((0x2001_0001 << 96) | 2, 128, ProtocolAssignment, "TURN Anycast"),
    v6((0x2001_0001 << 96) | 3, 128, ProtocolAssignment, "DNS-SD Service Registration Protocol Anycast"),
    v6(0x2001_0003 << 96, 32, ProtocolAssignment, "AMT"),
    v6(0x2001_0004_0112 << 80, 48, ProtocolAssignment, "AS112-v6"),
    v6(0x2001_0010 << 96, 28, Reserved, "Deprecated (previously ORCHID)"),
    v6(0x2001_0020 << 96, 28, ProtocolAssignment, "ORCHIDv2"),
    v6(0x2001_0030 << 96, 28, ProtocolAssignment, "Drone Remote ID Protocol Entity Tags (DETs) Prefix"),
    v6(0x2001 << 112, 23, ProtocolAssignment, "IETF Protocol Assignments"),
];

const MAPPED: Entry = v6(0xffff << 32, 96, Reserved, "IPv4-mapped Address");
const COMPATIBLE: Entry = v6(0, 96, Reserved, "IPv4-compatible Address (deprecated)");
const NAT64: Entry = v6(0x0064_ff9b << 96, 96, Reserved, "IPv4-IPv6 Translat.");
const SIX_TO_FOUR: Entry = v6(0x2002 << 112, 16, Reserved, "6to4");
const TEREDO: Entry = v6(0x2001 << 112, 32, Reserved, "TEREDO");
const GLOBAL_UNICAST: Prefix = Prefix::V6(0x2000 << 112, 3);
const OUTSIDE_GLOBAL_UNICAST: Entry = v6(
    0,
    0,
    Reserved,
    "outside the global unicast space 2000::/3 (reserved by the IETF)",
);

/// Why an address is special: the registry entry it falls in and, for an embedded IPv4
/// address, how it was embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// The entry the address (or the IPv4 address it embeds) falls in.
    pub entry: &'static Entry,
    /// How the IPv4 address was found inside an IPv6 one, and the address itself.
    pub embedded: Option<(Embedding, Ipv4Addr)>,
}

impl Special {
    /// Whether the `allow_private_network` opt-in makes the address reachable: loopback,
    /// private network and shared address space, directly or IPv4-mapped, and nothing else.
    pub fn opt_in(&self) -> bool {
        self.entry.kind.opt_in() && matches!(self.embedded, None | Some((Embedding::Mapped, _)))
    }
}

/// The special-purpose entry `ip` falls in, or `None` for a public address.
pub fn classify(ip: IpAddr) -> Option<Special> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4).map(|entry| Special {
            entry,
            embedded: None,
        }),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<&'static Entry> {
    IPV4.iter().find(|e| e.prefix.contains(IpAddr::V4(ip)))
}

fn classify_v6(ip: Ipv6Addr) -> Option<Special> {
    let addr = IpAddr::V6(ip);
    let plain = |entry: &'static Entry| {
        Some(Special {
            entry,
            embedded: None,
        })
    };
    if let Some(entry) = IPV6.iter().find(|e| e.prefix.contains(addr)) {
        return plain(entry);
    }
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let embedded = |how: Embedding, v4: Ipv4Addr| {
        classify_v4(v4).map(|entry| Special {
            entry,
            embedded: Some((how, v4)),
        })
    };
    if MAPPED.prefix.contains(addr) {
        // A mapped public address is that public address.
        return embedded(Embedding::Mapped, low32);
    }
    if NAT64.prefix.contains(addr) {
        return embedded(Embedding::Nat64, low32);
    }
    if COMPATIBLE.prefix.contains(addr) {
        // Deprecated: refused even when the embedded address is public.
        return embedded(Embedding::Compatible, low32).or(plain(&COMPATIBLE));
    }
    if SIX_TO_FOUR.prefix.contains(addr) {
        let v4 = Ipv4Addr::from(((bits >> 80) & 0xffff_ffff) as u32);
        return embedded(Embedding::SixToFour, v4);
    }
    if TEREDO.prefix.contains(addr) {
        let client = Ipv4Addr::from(!((bits & 0xffff_ffff) as u32));
        let server = Ipv4Addr::from(((bits >> 64) & 0xffff_ffff) as u32);
        return embedded(Embedding::TeredoClient, client)
            .or_else(|| embedded(Embedding::TeredoServer, server));
    }
    if let Some(entry) = IETF_PROTOCOL_ASSIGNMENTS
        .iter()
        .find(|e| e.prefix.contains(addr))
    {
        return plain(entry);
    }
    if !GLOBAL_UNICAST.contains(addr) {
        return plain(&OUTSIDE_GLOBAL_UNICAST);
    }
    None
}

/// An address the policy refuses, and why: shown in errors as "`203.0.113.7` is in
/// 203.0.113.0/24 (Documentation (TEST-NET-3), documentation)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    /// The refused address.
    pub ip: IpAddr,
    /// Where it falls.
    pub special: Special,
}

impl Denial {
    /// The kind of range that refused the address.
    pub fn kind(&self) -> RangeKind {
        self.special.entry.kind
    }

    /// Whether `allow_private_network` would have allowed it.
    pub fn opt_in(&self) -> bool {
        self.special.opt_in()
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.special.embedded {
            None => write!(f, "`{}` is in {}", self.ip, self.special.entry),
            Some((how, v4)) => write!(
                f,
                "`{}` embeds {v4} ({}), which is in {}",
                self.ip,
                how.as_str(),
                self.special.entry
            ),
        }
    }
}

/// The policy on one address: `Ok` for a public address, and for an opt-in range when
/// `allow_private_network` is set; otherwise the denial naming the range.
pub fn check(ip: IpAddr, allow_private_network: bool) -> Result<(), Denial> {
    match classify(ip) {
        None => Ok(()),
        Some(special) if allow_private_network && special.opt_in() => Ok(()),
        Some(special) => Err(Denial { ip, special }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use super::*;

    /// (inside, first, last, kind, just below, just above)
    type EdgeCase = (
        &'static str,
        &'static str,
        &'static str,
        RangeKind,
        Option<&'static str>,
        Option<&'static str>,
    );

    /// (address, the embedded address's form, the address and its kind)
    type EmbeddedCase = (&'static str, Option<(Embedding, &'static str, RangeKind)>);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn kind(s: &str) -> Option<RangeKind> {
        classify(ip(s)).map(|s| s.entry.kind)
    }

    /// Every IPv4 registry entry: an address inside, the first and last addresses, and the
    /// neighbours just outside (public unless another entry starts there).
    #[test]
    fn every_ipv4_entry_with_its_edges_and_neighbours() {
        #[rustfmt::skip]
        let table: &[EdgeCase] = &[
            // (inside, first, last, kind, just below, just above)
            ("0.1.2.3", "0.0.0.0", "0.255.255.255", ThisNetwork, None, Some("1.0.0.0")),
            ("10.20.30.40", "10.0.0.0", "10.255.255.255", PrivateNetwork, Some("9.255.255.255"), Some("11.0.0.0")),
            ("100.100.1.1", "100.64.0.0", "100.127.255.255", SharedAddressSpace, Some("100.63.255.255"), Some("100.128.0.0")),
            ("127.0.0.1", "127.0.0.0", "127.255.255.255", Loopback, Some("126.255.255.255"), Some("128.0.0.0")),
            ("169.254.169.254", "169.254.0.0", "169.254.255.255", LinkLocal, Some("169.253.255.255"), Some("169.255.0.0")),
            ("172.20.1.1", "172.16.0.0", "172.31.255.255", PrivateNetwork, Some("172.15.255.255"), Some("172.32.0.0")),
            ("192.0.0.100", "192.0.0.0", "192.0.0.255", ProtocolAssignment, Some("191.255.255.255"), Some("192.0.1.0")),
            ("192.0.2.7", "192.0.2.0", "192.0.2.255", Documentation, Some("192.0.1.255"), Some("192.0.3.0")),
            ("192.31.196.1", "192.31.196.0", "192.31.196.255", ProtocolAssignment, Some("192.31.195.255"), Some("192.31.197.0")),
            ("192.52.193.1", "192.52.193.0", "192.52.193.255", ProtocolAssignment, Some("192.52.192.255"), Some("192.52.194.0")),
            ("192.88.99.1", "192.88.99.0", "192.88.99.255", Reserved, Some("192.88.98.255"), Some("192.88.100.0")),
            ("192.168.1.1", "192.168.0.0", "192.168.255.255", PrivateNetwork, Some("192.167.255.255"), Some("192.169.0.0")),
            ("192.175.48.1", "192.175.48.0", "192.175.48.255", ProtocolAssignment, Some("192.175.47.255"), Some("192.175.49.0")),
            ("198.19.0.1", "198.18.0.0", "198.19.255.255", Benchmarking, Some("198.17.255.255"), Some("198.20.0.0")),
            ("198.51.100.7", "198.51.100.0", "198.51.100.255", Documentation, Some("198.51.99.255"), Some("198.51.101.0")),
            ("203.0.113.7", "203.0.113.0", "203.0.113.255", Documentation, Some("203.0.112.255"), Some("203.0.114.0")),
            ("239.1.2.3", "224.0.0.0", "239.255.255.255", Multicast, Some("223.255.255.255"), None),
            ("250.1.2.3", "240.0.0.0", "255.255.255.254", Reserved, None, None),
            ("255.255.255.255", "255.255.255.255", "255.255.255.255", Broadcast, None, None),
        ];
        for &(inside, first, last, want, below, above) in table {
            for a in [inside, first, last] {
                assert_eq!(kind(a), Some(want), "{a}");
            }
            for outside in [below, above].into_iter().flatten() {
                assert_eq!(kind(outside), None, "{outside} is public");
            }
        }
    }

    #[test]
    fn the_sub_entries_of_192_0_0_0_24_are_named() {
        for (a, name) in [
            ("192.0.0.0", "IPv4 Service Continuity Prefix"),
            ("192.0.0.7", "IPv4 Service Continuity Prefix"),
            ("192.0.0.8", "IPv4 dummy address"),
            ("192.0.0.9", "Port Control Protocol Anycast"),
            ("192.0.0.10", "Traversal Using Relays around NAT Anycast"),
            ("192.0.0.170", "NAT64/DNS64 Discovery"),
            ("192.0.0.171", "NAT64/DNS64 Discovery"),
            ("192.0.0.11", "IETF Protocol Assignments"),
            ("0.0.0.0", "This host on this network"),
        ] {
            assert_eq!(classify(ip(a)).unwrap().entry.name(), name, "{a}");
        }
    }

    #[test]
    fn every_ipv6_entry_with_its_edges_and_neighbours() {
        #[rustfmt::skip]
        let table: &[EdgeCase] = &[
            ("::", "::", "::", ThisNetwork, None, None),
            ("::1", "::1", "::1", Loopback, None, None),
            ("64:ff9b:1:2::3", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, None, None),
            ("100::42", "100::", "100::ffff:ffff:ffff:ffff", Discard, None, None),
            ("100:0:0:1::5", "100:0:0:1::", "100:0:0:1:ffff:ffff:ffff:ffff", Reserved, None, None),
            ("2001:2:0:1::1", "2001:2::", "2001:2:0:ffff:ffff:ffff:ffff:ffff", Benchmarking, None, None),
            ("2001:db8::1", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Documentation, Some("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"), Some("2001:db9::")),
            ("2620:4f:8000::53", "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, Some("2620:4f:7fff:ffff:ffff:ffff:ffff:ffff"), Some("2620:4f:8001::")),
            ("3fff:123::1", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", Documentation, Some("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Some("3fff:1000::")),
            ("5f00:1::1", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved, None, None),
            ("fd12:3456::1", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PrivateNetwork, None, None),
            ("fe80::1", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LinkLocal, None, None),
            ("fec0::1", "fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PrivateNetwork, None, None),
            ("ff02::1", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Multicast, None, None),
            // 2001::/23 beyond Teredo: its named entries and the rest of the block.
            ("2001:1::1", "2001:1::1", "2001:1::1", ProtocolAssignment, None, None),
            ("2001:1::2", "2001:1::2", "2001:1::3", ProtocolAssignment, None, None),
            ("2001:3::1", "2001:3::", "2001:3:ffff:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, None, None),
            ("2001:4:112::1", "2001:4:112::", "2001:4:112:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, None, None),
            ("2001:10::1", "2001:10::", "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", Reserved, None, None),
            ("2001:20::1", "2001:20::", "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, None, None),
            ("2001:30::1", "2001:30::", "2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, None, None),
            ("2001:100::1", "2001:1::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", ProtocolAssignment, Some("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), Some("2001:200::")),
        ];
        for &(inside, first, last, want, below, above) in table {
            for a in [inside, first, last] {
                assert_eq!(kind(a), Some(want), "{a}");
            }
            for outside in [below, above].into_iter().flatten() {
                assert_eq!(kind(outside), None, "{outside} is public");
            }
        }
        // Neighbours that another rule covers: just outside fc00::/7 and fe80::/10 is outside
        // 2000::/3; around 5f00::/16 likewise.
        for a in [
            "fbff::1",
            "fe7f::1",
            "5eff::1",
            "5f01::1",
            "4000::1",
            "::2:0:0:1",
        ] {
            assert_eq!(kind(a), Some(Reserved), "{a}");
        }
        // Public unicast addresses stay public.
        for a in [
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:200::1",
            "3ffe::1",
        ] {
            assert_eq!(kind(a), None, "{a}");
        }
    }

    #[test]
    fn embedded_ipv4_addresses_are_classified_as_ipv4() {
        let cases: &[EmbeddedCase] = &[
            (
                "::ffff:127.0.0.1",
                Some((Embedding::Mapped, "127.0.0.1", Loopback)),
            ),
            (
                "::ffff:169.254.169.254",
                Some((Embedding::Mapped, "169.254.169.254", LinkLocal)),
            ),
            (
                "::ffff:10.1.2.3",
                Some((Embedding::Mapped, "10.1.2.3", PrivateNetwork)),
            ),
            ("::ffff:8.8.8.8", None),
            (
                "::127.0.0.1",
                Some((Embedding::Compatible, "127.0.0.1", Loopback)),
            ),
            (
                "::169.254.169.254",
                Some((Embedding::Compatible, "169.254.169.254", LinkLocal)),
            ),
            (
                "64:ff9b::127.0.0.1",
                Some((Embedding::Nat64, "127.0.0.1", Loopback)),
            ),
            (
                "64:ff9b::a9fe:a9fe",
                Some((Embedding::Nat64, "169.254.169.254", LinkLocal)),
            ),
            (
                "64:ff9b::198.51.100.1",
                Some((Embedding::Nat64, "198.51.100.1", Documentation)),
            ),
            ("64:ff9b::8.8.8.8", None),
            (
                "2002:7f00:1::1",
                Some((Embedding::SixToFour, "127.0.0.1", Loopback)),
            ),
            (
                "2002:a9fe:a9fe::",
                Some((Embedding::SixToFour, "169.254.169.254", LinkLocal)),
            ),
            (
                "2002:c0a8:101:1::1",
                Some((Embedding::SixToFour, "192.168.1.1", PrivateNetwork)),
            ),
            ("2002:808:808::1", None),
            // Teredo: server 65.54.227.120, client 127.0.0.1 XOR 0xffffffff = 80ff:fffe.
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                Some((Embedding::TeredoClient, "127.0.0.1", Loopback)),
            ),
            // client 169.254.169.254 XOR all ones = 5601:5601.
            (
                "2001:0:4136:e378:8000:63bf:5601:5601",
                Some((Embedding::TeredoClient, "169.254.169.254", LinkLocal)),
            ),
            // Public client 192.0.1.1 hidden (3fff:fefe), server on 10.0.0.1.
            (
                "2001:0:a00:1:8000:63bf:3fff:fefe",
                Some((Embedding::TeredoServer, "10.0.0.1", PrivateNetwork)),
            ),
            // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (documentation).
            (
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                Some((Embedding::TeredoClient, "192.0.2.45", Documentation)),
            ),
            // Both public: client 8.8.8.8 (f7f7:f7f7), server 65.54.227.120.
            ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
        ];
        for &(a, want) in cases {
            let got = classify(ip(a));
            match want {
                None => assert_eq!(got, None, "{a}"),
                Some((how, v4, kind)) => {
                    let got = got.unwrap_or_else(|| panic!("{a} is special"));
                    assert_eq!(got.embedded, Some((how, v4.parse().unwrap())), "{a}");
                    assert_eq!(got.entry.kind, kind, "{a}");
                }
            }
        }
        // An IPv4-compatible address is deprecated: refused even with a public address.
        assert_eq!(kind("::8.8.8.8"), Some(Reserved));
        assert!(check(ip("::8.8.8.8"), true).is_err());
    }

    #[test]
    fn opt_in_allows_loopback_private_and_shared_and_nothing_else() {
        // Each opt-in range and its denial twin.
        for a in [
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "100.64.0.1",
            "fd00::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:192.168.1.1",
        ] {
            assert!(check(ip(a), true).is_ok(), "{a} with the opt-in");
            let denial = check(ip(a), false).unwrap_err();
            assert!(denial.opt_in(), "{a}");
        }
        // Refused always, whatever the opt-in.
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "169.254.169.254",
            "192.0.0.9",
            "192.0.2.1",
            "192.88.99.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "fe80::a9fe:a9fe",
            "ff02::1",
            "100::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "2001:2::1",
            "64:ff9b:1::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "::7f00:1",
            "2002:7f00:1::",
            "2002:a00:1::",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "::ffff:169.254.169.254",
        ] {
            let denial = check(ip(a), true).unwrap_err();
            assert!(!denial.opt_in(), "{a} must never be reachable");
        }
        for a in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(check(ip(a), false).is_ok(), "{a}");
        }
    }

    #[test]
    fn a_denial_names_the_range() {
        let d = check(ip("203.0.113.7"), false).unwrap_err();
        assert_eq!(d.kind(), Documentation);
        assert_eq!(
            d.to_string(),
            "`203.0.113.7` is in 203.0.113.0/24 (Documentation (TEST-NET-3), documentation)"
        );
        let d = check(ip("64:ff9b::a9fe:a9fe"), true).unwrap_err();
        assert_eq!(
            d.to_string(),
            "`64:ff9b::a9fe:a9fe` embeds 169.254.169.254 (NAT64), which is in 169.254.0.0/16 (Link Local, link-local)"
        );
    }
}
