// Uploads a picture the way a React editor does: Apollo Client with
// apollo-upload-client's terminating link, which sends the GraphQL
// multipart request when the variables hold a File or Blob.
// usage: node upload.mjs ENDPOINT TOKEN PICTURE_PATH
// Prints one JSON line: the uploaded image, the answer to a non-picture
// sent the same way, and a query sent through the same link.
import { readFileSync } from "node:fs";

import { ApolloClient, gql } from "@apollo/client";
import { InMemoryCache } from "@apollo/client/cache";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";

const [endpoint, token, picturePath] = process.argv.slice(2);

const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new UploadHttpLink({
    uri: endpoint,
    headers: { authorization: `Bearer ${token}` },
  }),
});

const UPLOAD = gql`
  mutation Upload($file: Upload!, $about: MediaTextsInput) {
    uploadMedia(file: $file, about: $about) {
      id
      width
      height
      caption
      credit
      photographer {
        name
      }
      url(width: 320)
    }
  }
`;

const picture = new File([readFileSync(picturePath)], "港口.png", { type: "image/png" });
const uploaded = await client.mutate({
  mutation: UPLOAD,
  variables: { file: picture, about: { caption: "日照港", photographer: "王偉" } },
});

// A PHP script named as a JPEG: refused by its content, with a code.
const script = new File(["<?php system($_GET['c']); ?>"], "photo.jpg", { type: "image/jpeg" });
let refused = null;
try {
  await client.mutate({ mutation: UPLOAD, variables: { file: script } });
} catch (error) {
  refused = (error.errors ?? [{ message: String(error) }]).map((e) => ({
    code: e.extensions?.code,
    message: e.message,
  }));
}

const read = await client.query({
  query: gql`
    query Picture($id: ID!) {
      media(id: $id) {
        id
        width
      }
    }
  `,
  variables: { id: uploaded.data.uploadMedia.id },
  fetchPolicy: "network-only",
});

console.log(JSON.stringify({ uploaded: uploaded.data.uploadMedia, refused, read: read.data.media }));
