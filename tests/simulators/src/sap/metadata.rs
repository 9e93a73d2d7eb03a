//! `$metadata`: the EDMX of a simulated service, generated from [`super::model`] — entity
//! types with their keys, properties and `sap:` flags (a flag is written only where it is
//! `false`, as SAP does), navigation properties, entity sets with their set-level flags, and
//! the function imports (`m:HttpMethod="POST"`).

use std::fmt::Write;

use super::model::{Edm, FUNCTION_IMPORTS, Service};

fn edm_attributes(edm: Edm) -> String {
    match edm {
        Edm::String(n) => format!("Type=\"Edm.String\" MaxLength=\"{n}\""),
        Edm::Decimal(p, s) => format!("Type=\"Edm.Decimal\" Precision=\"{p}\" Scale=\"{s}\""),
        Edm::DateTime => {
            "Type=\"Edm.DateTime\" Precision=\"0\" sap:display-format=\"Date\"".to_owned()
        }
        Edm::DateTimeOffset => "Type=\"Edm.DateTimeOffset\" Precision=\"0\"".to_owned(),
        Edm::Boolean => "Type=\"Edm.Boolean\"".to_owned(),
    }
}

/// The EDMX document of `service`.
pub(crate) fn edmx(service: Service) -> String {
    let ns = service.namespace();
    let mut x = String::new();
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><edmx:Edmx Version=\"1.0\" xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" xmlns:sap=\"http://www.sap.com/Protocols/SAPData\"><edmx:DataServices m:DataServiceVersion=\"2.0\"><Schema Namespace=\"{ns}\" xml:lang=\"en\" xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\">"
    );
    for set in service.sets() {
        let _ = write!(x, "<EntityType Name=\"{}\"><Key>", set.type_name());
        for k in set.keys() {
            let _ = write!(x, "<PropertyRef Name=\"{k}\"/>");
        }
        x.push_str("</Key>");
        for p in set.props() {
            let nullable = if set.keys().contains(&p.name) {
                " Nullable=\"false\""
            } else {
                ""
            };
            let _ = write!(
                x,
                "<Property Name=\"{}\" {}{nullable}",
                p.name,
                edm_attributes(p.edm)
            );
            for (flag, value) in [
                ("creatable", p.creatable),
                ("updatable", p.updatable),
                ("sortable", p.sortable),
                ("filterable", p.filterable),
            ] {
                if !value {
                    let _ = write!(x, " sap:{flag}=\"false\"");
                }
            }
            x.push_str("/>");
        }
        for nav in set.navs() {
            let _ = write!(
                x,
                "<NavigationProperty Name=\"{}\" Relationship=\"{ns}.assoc_{}\" FromRole=\"FromRole_{}\" ToRole=\"ToRole_{}\"/>",
                nav.name, nav.name, nav.name, nav.name
            );
        }
        x.push_str("</EntityType>");
    }
    x.push_str("<ComplexType Name=\"DummyFunctionImportResult\"><Property Name=\"IsInvalid\" Type=\"Edm.Boolean\" sap:label=\"TRUE\"/></ComplexType>");
    for set in service.sets() {
        for nav in set.navs() {
            let _ = write!(
                x,
                "<Association Name=\"assoc_{n}\"><End Type=\"{ns}.{from}\" Multiplicity=\"1\" Role=\"FromRole_{n}\"/><End Type=\"{ns}.{to}\" Multiplicity=\"*\" Role=\"ToRole_{n}\"/></Association>",
                n = nav.name,
                from = set.type_name(),
                to = nav.target.type_name()
            );
        }
    }
    let _ = write!(
        x,
        "<EntityContainer Name=\"{ns}_Entities\" m:IsDefaultEntityContainer=\"true\">"
    );
    for set in service.sets() {
        let _ = write!(
            x,
            "<EntitySet Name=\"{}\" EntityType=\"{ns}.{}\"",
            set.name(),
            set.type_name()
        );
        for (flag, value) in [
            ("creatable", set.creatable()),
            ("updatable", set.updatable()),
            ("deletable", set.deletable()),
        ] {
            if !value {
                let _ = write!(x, " sap:{flag}=\"false\"");
            }
        }
        x.push_str("/>");
    }
    for f in FUNCTION_IMPORTS
        .iter()
        .filter(|f| f.set.service() == service)
    {
        let _ = write!(
            x,
            "<FunctionImport Name=\"{}\" ReturnType=\"{ns}.DummyFunctionImportResult\" m:HttpMethod=\"POST\">",
            f.name
        );
        for (name, edm, _) in f.params {
            let ty = edm_attributes(*edm);
            let ty = ty.split(' ').next().unwrap_or("");
            let _ = write!(x, "<Parameter Name=\"{name}\" {ty} Mode=\"In\"/>");
        }
        x.push_str("</FunctionImport>");
    }
    x.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_the_flags() {
        let x = edmx(Service::MaintenanceOrder);
        assert!(x.contains("<EntitySet Name=\"MaintenanceOrder\" EntityType=\"cds_api_maintenanceorder_2.MaintenanceOrderType\" sap:deletable=\"false\"/>"));
        assert!(x.contains("<FunctionImport Name=\"ReleaseMaintenanceOrder\""));
        assert!(x.contains("Name=\"SystemStatusText\" Type=\"Edm.String\" MaxLength=\"40\" sap:creatable=\"false\" sap:updatable=\"false\" sap:sortable=\"false\" sap:filterable=\"false\""));
        let stock = edmx(Service::MaterialStock);
        assert!(
            stock.contains(
                "sap:creatable=\"false\" sap:updatable=\"false\" sap:deletable=\"false\""
            )
        );
    }
}
