//! The kind of operation a request would run, for the steps that treat
//! queries and mutations apart (GET, the POST cache, mutation limits,
//! idempotency).

use std::cell::OnceCell;

use async_graphql::parser::types::OperationType;

/// The operation of a request, parsed at most once, and only when a step
/// needs to know.
pub struct Operation<'r> {
    request: &'r async_graphql::Request,
    kind: OnceCell<Option<OperationType>>,
}

impl<'r> Operation<'r> {
    pub fn of(request: &'r async_graphql::Request) -> Self {
        Operation {
            request,
            kind: OnceCell::new(),
        }
    }

    /// What the operation is, when it can be told without executing.
    pub fn kind(&self) -> Option<OperationType> {
        *self.kind.get_or_init(|| {
            operation_type(&self.request.query, self.request.operation_name.as_deref())
        })
    }

    pub fn is_query(&self) -> bool {
        self.kind() == Some(OperationType::Query)
    }

    pub fn is_mutation(&self) -> bool {
        self.kind() == Some(OperationType::Mutation)
    }
}

/// The operation a document would run, when it can be told without executing.
fn operation_type(query: &str, name: Option<&str>) -> Option<OperationType> {
    let doc = async_graphql::parser::parse_query(query).ok()?;
    let mut ops = doc.operations.iter();
    match name {
        Some(name) => ops
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name))
            .map(|(_, op)| op.node.ty),
        None => {
            let (_, op) = ops.next()?;
            Some(op.node.ty)
        }
    }
}
