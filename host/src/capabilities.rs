//! The capability catalogue rendered for people and programs: which operations and fields each
//! system supports, and why not where not. `plantwire capabilities` and the API serve this.

use std::fmt::Write;

use plantwire_sdk::{AdapterInfo, EntityInfo, Field, Operation, Support};

/// Output formats of the capability matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

fn mark(support: &Support) -> &'static str {
    if support.is_supported() { "yes" } else { "no" }
}

fn flags(f: &Field) -> String {
    let fl = f.flags;
    let mut out = String::new();
    for (on, c) in [
        (fl.read_list, 'L'),
        (fl.read_detail, 'D'),
        (fl.filterable, 'F'),
        (fl.sortable, 'S'),
        (fl.creatable, 'C'),
        (fl.updatable, 'U'),
        (fl.required_on_create, 'R'),
    ] {
        out.push(if on { c } else { '-' });
    }
    out
}

/// The operations shown as matrix columns (actions are listed by name).
const CRUD: [Operation; 5] = [
    Operation::List,
    Operation::Get,
    Operation::Create,
    Operation::Update,
    Operation::Delete,
];

const FLAG_LEGEND: &str = "flags: L read in list, D read in detail, F filterable, S sortable, C creatable, U updatable, R required on create";

/// Renders the systems' capabilities; `entity` narrows to one entity.
pub fn render(systems: &[&AdapterInfo], entity: Option<&str>, format: Format) -> String {
    match format {
        Format::Json => {
            let filtered: Vec<AdapterInfo> = systems
                .iter()
                .map(|info| {
                    let mut info = (*info).clone();
                    if let Some(e) = entity {
                        info.entities.retain(|x| x.name == e);
                    }
                    info
                })
                .collect();
            serde_json::to_string_pretty(&filtered).unwrap_or_default()
        }
        Format::Table => render_text(systems, entity, false),
        Format::Markdown => render_text(systems, entity, true),
    }
}

fn entities<'a>(info: &'a AdapterInfo, entity: Option<&str>) -> Vec<&'a EntityInfo> {
    info.entities
        .iter()
        .filter(|e| entity.is_none_or(|want| e.name == want))
        .collect()
}

fn render_text(systems: &[&AdapterInfo], entity: Option<&str>, md: bool) -> String {
    let mut out = String::new();
    for info in systems {
        if md {
            let _ = writeln!(out, "## {} (`{}`)\n", info.display_name, info.system);
            let _ = writeln!(
                out,
                "Adapter {} for API {}; auth: {}.\n",
                info.adapter_version,
                info.api_version,
                info.auth.describe()
            );
        } else {
            let _ = writeln!(
                out,
                "{} ({}) — adapter {}, API {}, auth: {}",
                info.display_name,
                info.system,
                info.adapter_version,
                info.api_version,
                info.auth.describe()
            );
        }
        let list = entities(info, entity);
        // Operations matrix.
        let header = [
            "entity", "native", "list", "get", "create", "update", "delete", "actions",
        ];
        let mut rows: Vec<Vec<String>> = Vec::new();
        for e in &list {
            let mut row = vec![e.name.clone(), e.native_name.clone()];
            for op in CRUD {
                row.push(mark(&e.support(op)).to_owned());
            }
            let actions: Vec<&str> = e.actions.iter().map(|a| a.name.as_str()).collect();
            row.push(if actions.is_empty() {
                "-".into()
            } else {
                actions.join(", ")
            });
            rows.push(row);
        }
        table(&mut out, &header, &rows, md);
        // Reasons for every "no".
        let mut reasons = Vec::new();
        for e in &list {
            // Operations that share a reason are listed together.
            let mut grouped: Vec<(Vec<&str>, String)> = Vec::new();
            for op in CRUD {
                if let Support::Unsupported(reason) = e.support(op) {
                    match grouped.iter_mut().find(|(_, r)| *r == reason) {
                        Some((ops, _)) => ops.push(op.as_str()),
                        None => grouped.push((vec![op.as_str()], reason)),
                    }
                }
            }
            for (ops, reason) in grouped {
                let ops = if ops.len() == CRUD.len() {
                    "any operation".to_owned()
                } else {
                    ops.join(", ")
                };
                reasons.push(format!("{} {ops}: {reason}", e.name));
            }
        }
        if !reasons.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                if md {
                    "\n**Not supported, and why**\n"
                } else {
                    "\nNot supported, and why:"
                }
            );
            for r in reasons {
                let _ = writeln!(out, "{}{r}", if md { "- " } else { "  - " });
            }
        }
        // Field detail when one entity is asked for.
        if entity.is_some() {
            for e in &list {
                let _ = writeln!(
                    out,
                    "{}",
                    if md {
                        format!(
                            "\n### {} fields\n\nPage size {} (max {}), batch up to {}, concurrency token: {}.\n",
                            e.name,
                            e.default_page_size,
                            e.max_page_size,
                            e.max_batch_size,
                            if e.concurrency_token { "yes" } else { "no" }
                        )
                    } else {
                        format!(
                            "\n{} fields — page size {} (max {}), batch up to {}, concurrency token: {}",
                            e.name,
                            e.default_page_size,
                            e.max_page_size,
                            e.max_batch_size,
                            if e.concurrency_token { "yes" } else { "no" }
                        )
                    }
                );
                if let Some(note) = &e.note {
                    let _ = writeln!(out, "{note}\n");
                }
                let header = ["field", "type", "flags", "native", "values / note"];
                let rows: Vec<Vec<String>> = e
                    .fields
                    .iter()
                    .map(|f| {
                        let mut detail = Vec::new();
                        if !f.filter_ops.is_empty() {
                            detail.push(format!(
                                "filter {}",
                                f.filter_ops
                                    .iter()
                                    .map(|o| o.symbol())
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            ));
                        }
                        if !f.enum_values.is_empty() {
                            detail.push(
                                f.enum_values
                                    .iter()
                                    .map(|v| format!("{}={}", v.value, v.native))
                                    .collect::<Vec<_>>()
                                    .join(" "),
                            );
                        }
                        if !f.item_fields.is_empty() {
                            detail.push(format!(
                                "items: {}",
                                f.item_fields
                                    .iter()
                                    .map(|i| i.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                        if let Some(n) = &f.note {
                            detail.push(n.clone());
                        }
                        vec![
                            f.name.clone(),
                            f.ty.label(),
                            flags(f),
                            f.native_name.clone().unwrap_or_default(),
                            detail.join("; "),
                        ]
                    })
                    .collect();
                table(&mut out, &header, &rows, md);
                for a in &e.actions {
                    let inputs: Vec<&str> =
                        a.input_fields.iter().map(|f| f.name.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "{}action {}({}): {}",
                        if md { "- " } else { "  " },
                        a.name,
                        inputs.join(", "),
                        a.description
                    );
                }
            }
            let _ = writeln!(out, "\n{FLAG_LEGEND}");
        }
        out.push('\n');
    }
    out
}

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], md: bool) {
    if md {
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            header.iter().map(|_| "---|").collect::<String>()
        );
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count()).min(60);
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let _ = write!(s, " {:<w$}", c, w = w);
        }
        s.trim_end().to_owned()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    let _ = writeln!(
        out,
        "{}",
        line(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect()
        )
    );
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}
