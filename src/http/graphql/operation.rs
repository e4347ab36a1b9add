//! The kind of operation a request would run, for the steps that treat
//! queries and mutations apart (GET, the POST cache, mutation limits,
//! idempotency).

use std::cell::OnceCell;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType};

use super::documents::{Parsed, ParsedDocuments};

/// The operation of a request, parsed at most once (or taken from the
/// documents already parsed), and only when a step needs to know.
pub struct Operation<'r> {
    request: &'r async_graphql::Request,
    documents: &'r ParsedDocuments,
    document: OnceCell<Option<Arc<Parsed>>>,
}

impl<'r> Operation<'r> {
    pub fn of(request: &'r async_graphql::Request, documents: &'r ParsedDocuments) -> Self {
        Operation {
            request,
            documents,
            document: OnceCell::new(),
        }
    }

    /// The request's document, parsed; `None` when it does not parse.
    pub fn document(&self) -> Option<Arc<Parsed>> {
        self.document
            .get_or_init(|| self.documents.parsed(&self.request.query))
            .clone()
    }

    /// What the operation is, when it can be told without executing.
    pub fn kind(&self) -> Option<OperationType> {
        let parsed = self.document()?;
        operation_type(&parsed.document, self.request.operation_name.as_deref())
    }

    pub fn is_query(&self) -> bool {
        self.kind() == Some(OperationType::Query)
    }

    pub fn is_mutation(&self) -> bool {
        self.kind() == Some(OperationType::Mutation)
    }
}

/// The operation a document would run, when it can be told without executing.
fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
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
