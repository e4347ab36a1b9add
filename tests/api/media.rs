//! Pictures: uploads over REST and the GraphQL multipart request spec,
//! renditions of the right size and type without EXIF, hostile files
//! refused with clear errors and little memory, and the lead picture and
//! image blocks on every surface.

use image::ImageFormat;
use newsdesk::media::samples::{jpeg_with_exif, picture, png_claiming};
use serde_json::{json, Value};

use crate::both_engines;
use crate::helpers::{assert_bad_input, newsdesk, Engine, Newsroom};

const BOUNDARY: &str = "newsdesk-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body of text parts and one file part.
fn form(texts: &[(&str, &str)], file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\ncontent-type: image/jpeg\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads `file` over REST as `who`; the status and the answer.
pub(crate) async fn upload(
    room: &Newsroom,
    who: &str,
    file_name: &str,
    file: &[u8],
) -> (u16, Value) {
    upload_with(
        room,
        who,
        file_name,
        file,
        &[("alt", "日照港碼頭"), ("credit", "攝影 王偉")],
    )
    .await
}

/// Uploads `file` over REST as `who` with these text parts.
pub(crate) async fn upload_with(
    room: &Newsroom,
    who: &str,
    file_name: &str,
    file: &[u8],
    texts: &[(&str, &str)],
) -> (u16, Value) {
    let response = room
        .app
        .client
        .post(format!("{}/v1/media", room.app.address))
        .header("authorization", format!("Bearer {}", room.token(who)))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(texts, file_name, file))
        .send()
        .await
        .expect("upload sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn fetch(room: &Newsroom, url: &str) -> reqwest::Response {
    let path = url.trim_start_matches("https://news.example.test");
    room.app
        .client
        .get(format!("{}{path}", room.app.address))
        .send()
        .await
        .expect("get")
}

both_engines!(each_format_uploads_and_makes_renditions_without_exif);
async fn each_format_uploads_and_makes_renditions_without_exif(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    for (name, bytes, width, height, kept) in [
        ("a.jpg", jpeg_with_exif(1500, 900), 900, 1500, "image/jpeg"),
        (
            "b.png",
            picture(700, 350, ImageFormat::Png),
            700,
            350,
            "image/png",
        ),
        (
            "c.webp",
            picture(400, 300, ImageFormat::WebP),
            400,
            300,
            "image/webp",
        ),
        (
            "d.gif",
            picture(330, 200, ImageFormat::Gif),
            330,
            200,
            "image/png",
        ),
    ] {
        let (status, media) = upload(&room, "reporter-a", name, &bytes).await;
        assert_eq!(status, 201, "{name}: {media}");
        assert_eq!(
            (media["width"].as_i64(), media["height"].as_i64()),
            (Some(width), Some(height)),
            "{name}: {media}"
        );
        assert_eq!(media["contentType"], kept, "{name}");
        assert_eq!(media["alt"], "日照港碼頭");
        assert!(
            media["blurhash"].as_str().is_some_and(|b| b.len() >= 6),
            "{media}"
        );
        for format in ["srcset", "webpSrcset"] {
            let srcset = media[format].as_str().expect("srcset");
            for candidate in srcset.split(", ") {
                let (url, w) = candidate.split_once(' ').expect("url and width");
                let wanted: u32 = w.trim_end_matches('w').parse().expect("width");
                let response = fetch(&room, url).await;
                assert_eq!(response.status(), 200, "{url}");
                let headers = response.headers().clone();
                assert_eq!(
                    headers["cache-control"],
                    "public, max-age=31536000, immutable"
                );
                let content_type = headers["content-type"].to_str().unwrap_or("").to_string();
                let bytes = response.bytes().await.expect("bytes");
                let expected = if format == "srcset" {
                    "image/jpeg"
                } else {
                    "image/webp"
                };
                assert_eq!(content_type, expected, "{url}");
                let decoded = image::load_from_memory(&bytes).expect("a picture");
                assert_eq!(decoded.width(), wanted, "{url}");
                assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF in {url}");
                assert!(!bytes.windows(4).any(|w| w == b"GPS\0"), "GPS in {url}");
            }
        }
        // Uploading the same picture again is the same asset.
        let (again, same) = upload(&room, "editor", name, &bytes).await;
        assert_eq!((again, &same["id"]), (200, &media["id"]), "{name}");
    }
    // A rendition revalidated by its tag is 304, with nothing re-sent.
    let (_, media) = upload(
        &room,
        "reporter-a",
        "r.png",
        &picture(320, 100, ImageFormat::Png),
    )
    .await;
    let url = media["url"].as_str().expect("url");
    let first = fetch(&room, url).await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    let again = room
        .app
        .client
        .get(format!(
            "{}{}",
            room.app.address,
            url.trim_start_matches("https://news.example.test")
        ))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());
    // A width that is not offered, and an id that names nothing.
    let (_, media) = upload(
        &room,
        "reporter-a",
        "e.png",
        &picture(500, 500, ImageFormat::Png),
    )
    .await;
    let id = media["id"].as_str().expect("id");
    for path in [
        format!("/media/{id}/999.jpg"),
        format!("/media/{id}/320.gif"),
        "/media/000000000000000000000000/320.jpg".to_string(),
        format!("/media/{id}/../../etc/passwd"),
    ] {
        assert_eq!(fetch(&room, &path).await.status(), 404, "{path}");
    }
}

both_engines!(hostile_uploads_get_clear_errors);
async fn hostile_uploads_get_clear_errors(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let jpeg = picture(300, 200, ImageFormat::Jpeg);
    for (name, bytes, status, code) in [
        (
            "bomb.png",
            png_claiming(50_000, 50_000),
            422,
            "IMAGE_TOO_LARGE",
        ),
        (
            "cut.jpg",
            jpeg[..jpeg.len() / 2].to_vec(),
            422,
            "IMAGE_UNREADABLE",
        ),
        (
            "shell.jpg",
            b"<?php system($_GET['c']); ?>".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("empty.jpg", Vec::new(), 415, "UNSUPPORTED_MEDIA_TYPE"),
    ] {
        let (got, body) = upload(&room, "reporter-a", name, &bytes).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{name}: {body}"
        );
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // Who may upload: reporters, editors and admins; not anonymous callers,
    // partners or claimants.
    for (who, status) in [("partner", 403), ("claimant", 403), ("legal", 403)] {
        assert_eq!(upload(&room, who, "a.jpg", &jpeg).await.0, status, "{who}");
    }
    let anonymous = room
        .app
        .client
        .post(format!("{}/v1/media", room.app.address))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(&[], "a.jpg", &jpeg))
        .send()
        .await
        .expect("sent");
    assert_eq!(anonymous.status(), 401);
    // A form without a file, and a body that is not a form.
    let (status, body) = {
        let response = room
            .app
            .client
            .post(format!("{}/v1/media", room.app.address))
            .header("authorization", format!("Bearer {}", room.token("editor")))
            .header("content-type", "application/octet-stream")
            .body(jpeg.clone())
            .send()
            .await
            .expect("sent");
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap_or(Value::Null),
        )
    };
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BAD_USER_INPUT")),
        "{body}"
    );
    // A file written into the query text is not a file.
    let inline = room
        .as_user(
            Some(&room.token("editor")),
            r#"mutation { uploadMedia(file: "<?php echo 1; ?>") { id } }"#,
        )
        .await;
    assert_eq!(
        inline["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{inline}"
    );
    // Nothing was kept by any refused upload.
    use diesel::prelude::*;
    let database = room.app.db.database();
    let mut conn = database.get().expect("connection");
    let kept: i64 = newsdesk::db::schema::media::table
        .count()
        .get_result(&mut *conn)
        .expect("count");
    assert_eq!(kept, 0);
}

/// Sends `length` bytes of a form to `/v1/media` over a raw socket, with
/// or without `Content-Length`; returns the status line of the answer.
fn send_huge(address: &str, token: &str, length: usize, announce: bool) -> String {
    use std::io::{Read, Write};
    let host = address.trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(host).expect("connect");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    let framing = if announce {
        format!("content-length: {length}\r\n")
    } else {
        "transfer-encoding: chunked\r\n".to_string()
    };
    let head = format!(
        "POST /v1/media HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n"
    );
    socket.write_all(head.as_bytes()).expect("head");
    let start = form(&[], "huge.jpg", &[]);
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0;
    let mut first = true;
    while sent < length {
        let piece: &[u8] = if first {
            &start[..start.len() - BOUNDARY.len() - 8]
        } else {
            &chunk
        };
        first = false;
        let written = if announce {
            socket.write_all(piece)
        } else {
            socket
                .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .and_then(|()| socket.write_all(piece))
                .and_then(|()| socket.write_all(b"\r\n"))
        };
        if written.is_err() {
            break; // the server answered and closed
        }
        sent += piece.len();
    }
    let mut answer = vec![0u8; 512];
    let n = socket.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// The peak resident memory of process `pid`, in MB.
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .expect("VmHWM")
}

#[tokio::test]
async fn a_200_mb_upload_and_a_bomb_are_refused_with_little_memory() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let Some(db) = crate::helpers::TestDb::new(Engine::Sqlite) else {
        return;
    };
    let url = db.url.clone();
    crate::helpers::migrate(&db);
    {
        let database = db.database();
        let mut conn = database.get().expect("connection");
        newsdesk::db::users::create(&mut conn, "editor", newsdesk::domain::Role::Editor, None)
            .expect("user");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsdesk"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("NEWSDESK_BIND", "127.0.0.1:0")
        .env("NEWSDESK_JWT_SECRET", crate::helpers::SECRET)
        .env("NEWSDESK_RATE_LIMIT_PER_MINUTE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    let address = first.trim().rsplit(' ').next().expect("url").to_string();
    let token = crate::helpers::keys()
        .mint(
            "editor",
            newsdesk::domain::Role::Editor,
            std::time::Duration::from_secs(900),
        )
        .expect("mint")
        .0;

    let (a, t) = (address.clone(), token.clone());
    let announced = tokio::task::spawn_blocking(move || send_huge(&a, &t, 200 << 20, true))
        .await
        .expect("sent");
    assert!(announced.contains(" 413 "), "{announced}");
    let (a, t) = (address.clone(), token.clone());
    let chunked = tokio::task::spawn_blocking(move || send_huge(&a, &t, 200 << 20, false))
        .await
        .expect("sent");
    assert!(chunked.contains(" 413 "), "{chunked}");
    let client = reqwest::Client::new();
    for (file, status) in [
        (png_claiming(50_000, 50_000), 422),
        (png_claiming(100_000, 1), 422),
        (b"<?php echo 1; ?>".to_vec(), 415),
    ] {
        let answer = client
            .post(format!("{address}/v1/media"))
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(form(&[], "bomb.jpg", &file))
            .send()
            .await
            .expect("sent");
        assert_eq!(answer.status().as_u16(), status);
    }
    let peak = peak_rss_mb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(peak < 200, "the server's memory peaked at {peak} MB");
}

/// Uploads through `/graphql` as the GraphQL multipart request spec says
/// (`operations`, `map`, then the file part), as Apollo Upload Client sends it.
async fn graphql_upload(room: &Newsroom, token: Option<&str>, file: &[u8]) -> (u16, Value) {
    let operations = json!({
        "query": "mutation($file: Upload!) { uploadMedia(file: $file, about: { caption: \"碼頭\", credit: \"攝影 王偉\" }) { id width height url(width: 640, format: WEBP) srcset caption credit } }",
        "variables": { "file": null },
    });
    let mut body = Vec::new();
    for (name, value) in [
        ("operations", operations.to_string()),
        ("map", r#"{"0":["variables.file"]}"#.to_string()),
    ] {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"0\"; filename=\"a.png\"\r\ncontent-type: image/png\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut request = room
        .app
        .client
        .post(format!("{}/graphql", room.app.address))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("apollo-require-preflight", "true")
        .body(body);
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

both_engines!(the_lead_picture_and_image_blocks_reach_every_surface);
async fn the_lead_picture_and_image_blocks_reach_every_surface(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    // A form to /graphql without a staff token is refused as before.
    let png = picture(1500, 1000, ImageFormat::Png);
    let (status, refused) = graphql_upload(&room, None, &png).await;
    assert_eq!(status, 415, "{refused}");
    let (status, uploaded) = graphql_upload(&room, Some(&room.token("reporter-a")), &png).await;
    assert_eq!(status, 200, "{uploaded}");
    let image = &uploaded["data"]["uploadMedia"];
    let id = image["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{uploaded}"))
        .to_string();
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(1500), Some(1000))
    );
    assert_eq!(
        image["url"],
        format!("https://news.example.test/media/{id}/640.webp")
    );
    assert_eq!(
        image["srcset"],
        format!("https://news.example.test/media/{id}/320.jpg 320w, https://news.example.test/media/{id}/640.jpg 640w, https://news.example.test/media/{id}/1280.jpg 1280w, https://news.example.test/media/{id}/1500.jpg 1500w")
    );

    let database = room.app.db.database();
    {
        let mut conn = database.get().expect("connection");
        newsdesk::db::sources::find_or_create(&mut conn, "經濟導報", true).expect("source");
    }
    let made = newsdesk(&room.app.db.url, &["partner", "add", "portal"]);
    let key = String::from_utf8_lossy(&made.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let bearer = format!("Bearer {}", room.token("editor"));
    let create =
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { databaseId } }";
    // A picture that was never uploaded is refused, in a block and as the lead.
    for input in [
        json!({ "title": "x", "section": "lin-yi", "blocks": [{ "image": { "mediaId": "aaaaaaaaaaaaaaaaaaaaaaaa" } }] }),
        json!({ "title": "x", "section": "lin-yi", "leadImage": "aaaaaaaaaaaaaaaaaaaaaaaa" }),
    ] {
        let answer = room
            .app
            .graphql_with(
                create,
                json!({ "input": input }),
                &[("authorization", &bearer)],
            )
            .await
            .1;
        assert_bad_input(&answer, "no uploaded media");
    }
    let answer = room
        .app
        .graphql_with(
            create,
            json!({ "input": { "title": "日照港新碼頭", "section": "lin-yi", "source": "經濟導報", "leadImage": id,
                "blocks": [{ "paragraph": { "text": "碼頭啟用。" } }, { "image": { "mediaId": id, "caption": "新碼頭", "credit": "攝影 王偉" } }] } }),
            &[("authorization", &bearer)],
        )
        .await
        .1;
    let article = answer["data"]["createArticle"]["databaseId"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"));
    crate::bodies::publish(&room, article).await;

    let read = room
        .app
        .graphql(&format!(
            r#"{{ article(id: "{article}") {{ leadImage {{ id width blurhash url }} bodyHtml body {{ ... on ImageBlock {{ mediaId caption image {{ url(width: 320) }} }} }} }} }}"#
        ))
        .await;
    let shown = &read["data"]["article"];
    assert_eq!(shown["leadImage"]["id"], id.as_str(), "{read}");
    assert_eq!(
        shown["leadImage"]["url"],
        format!("https://news.example.test/media/{id}/1280.jpg")
    );
    assert_eq!(
        shown["body"][1]["image"]["url"],
        format!("https://news.example.test/media/{id}/320.jpg")
    );
    let html = shown["bodyHtml"].as_str().expect("bodyHtml");
    for piece in [
        format!(r#"data-media="{id}""#),
        format!(r#"src="https://news.example.test/media/{id}/1280.jpg""#),
        format!("https://news.example.test/media/{id}/320.jpg 320w"),
        r#"width="1280" height="853""#.to_string(),
    ] {
        assert!(html.contains(&piece), "{piece} not in {html}");
    }

    let rest: Value = fetch(&room, &format!("/v1/articles/{article}"))
        .await
        .json()
        .await
        .expect("REST");
    assert_eq!(rest["leadImage"]["id"], id.as_str(), "{rest}");
    assert_eq!(rest["leadImage"]["width"], 1500);
    assert_eq!(rest["bodyHtml"], shown["bodyHtml"]);

    // The picture's own texts follow the script asked for, as the article's do.
    let hans = room
        .app
        .graphql(&format!(
            r#"{{ media(id: "{id}", script: HANS) {{ caption credit }} article(id: "{article}", script: HANS) {{ leadImage {{ caption }} }} }}"#
        ))
        .await;
    assert_eq!(
        hans["data"],
        json!({ "media": { "caption": "码头", "credit": "摄影 王伟" }, "article": { "leadImage": { "caption": "码头" } } }),
        "{hans}"
    );
    let rest_hans: Value = fetch(&room, &format!("/v1/articles/{article}?script=hans"))
        .await
        .json()
        .await
        .expect("REST");
    assert_eq!(rest_hans["leadImage"]["credit"], "摄影 王伟", "{rest_hans}");

    let partner = |path: String| {
        let client = room.app.client.clone();
        let address = room.app.address.clone();
        let key = key.clone();
        async move {
            client
                .get(format!("{address}{path}"))
                .header("x-api-key", key)
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("text")
        }
    };
    let rss = partner("/feeds/all.rss".into()).await;
    let feed = feed_rs::parser::parse(rss.as_bytes()).expect("RSS parses");
    let item = &feed.entries[0];
    let media_url = item
        .media
        .iter()
        .flat_map(|m| m.content.iter())
        .filter_map(|c| c.url.as_ref().map(|u| u.to_string()))
        .next();
    assert_eq!(
        media_url,
        Some(format!("https://news.example.test/media/{id}/1280.jpg")),
        "{rss}"
    );
    assert!(rss.contains(&format!(
        r#"<enclosure url="https://news.example.test/media/{id}/1280.jpg" type="image/jpeg""#
    )));
    assert!(
        rss.contains(&format!(
            "src=&quot;https://news.example.test/media/{id}/1280.jpg&quot;"
        )),
        "the body's picture is missing from the full text: {rss}"
    );
    let atom = partner("/feeds/all.atom".into()).await;
    assert!(atom.contains(&format!(r#"<link rel="enclosure" type="image/jpeg" href="https://news.example.test/media/{id}/1280.jpg"/>"#)), "{atom}");
    let json_feed: Value =
        serde_json::from_str(&partner("/feeds/all.json".into()).await).expect("JSON Feed");
    assert_eq!(
        json_feed["items"][0]["image"],
        format!("https://news.example.test/media/{id}/1280.jpg")
    );
    let ninjs: Value =
        serde_json::from_str(&partner(format!("/v1/ninjs/articles/{article}")).await)
            .expect("ninjs");
    crate::feeds::assert_ninjs(&crate::feeds::ninjs_validator(), &ninjs);
    let association = &ninjs["associations"][0];
    assert_eq!(association["type"], "picture");
    assert_eq!(
        association["renditions"].as_array().map(Vec::len),
        Some(4),
        "{ninjs}"
    );
}

/// moto's S3-compatible server on a free loopback port, stopped when dropped.
struct S3Server {
    child: std::process::Child,
    endpoint: String,
}

impl S3Server {
    async fn start() -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(crate::helpers::venv_program("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/moto-api/", server.endpoint))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on {}", server.endpoint);
    }

    /// Makes a bucket; moto takes unsigned requests.
    async fn bucket(&self, name: &str) {
        let made = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .expect("bucket made");
        assert!(made.status().is_success(), "{}", made.status());
    }

    /// The keys in bucket `name`.
    async fn keys(&self, name: &str) -> String {
        reqwest::get(format!("{}/{name}?list-type=2", self.endpoint))
            .await
            .expect("listed")
            .text()
            .await
            .expect("listing")
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

both_engines!(pictures_in_a_bucket_are_shared_by_every_node);
async fn pictures_in_a_bucket_are_shared_by_every_node(engine: Engine) {
    let s3 = S3Server::start().await;
    let bucket = format!("newsdesk-{}", uuid::Uuid::new_v4().simple());
    s3.bucket(&bucket).await;
    let media_url = format!("s3://{bucket}/site");
    let vars = [
        ("NEWSDESK_MEDIA_URL", media_url.as_str()),
        ("AWS_ENDPOINT_URL", s3.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let Some(room) = Newsroom::open_with(engine, &vars).await else {
        return;
    };
    let other_node = crate::helpers::TestApp::start(&room.app.db.url, &vars).await;

    let (status, media) = upload(&room, "editor", "port.jpg", &jpeg_with_exif(900, 600)).await;
    assert_eq!(status, 201, "{media}");
    let id = media["id"].as_str().expect("id");
    // Made and kept by one node, served by the other.
    let rendition = room
        .app
        .client
        .get(format!("{other_node}/media/{id}/320.webp"))
        .send()
        .await
        .expect("get");
    assert_eq!(rendition.status(), 200);
    let bytes = rendition.bytes().await.expect("bytes");
    assert_eq!(
        image::load_from_memory(&bytes).expect("a picture").width(),
        320
    );
    let keys = s3.keys(&bucket).await;
    for key in [
        format!("site/masters/{id}"),
        format!("site/renditions/{id}/320.webp"),
    ] {
        assert!(keys.contains(&key), "{key} not in {keys}");
    }
    // The other node reads what the first kept: the same picture again is the same asset.
    let (again, same) = upload(&room, "editor", "port.jpg", &jpeg_with_exif(900, 600)).await;
    assert_eq!((again, &same["id"]), (200, &media["id"]));
}

#[tokio::test]
async fn a_bad_bucket_url_stops_the_server_with_one_line() {
    let made = crate::helpers::newsdesk_with(
        "sqlite::memory:",
        &["serve"],
        &[
            ("NEWSDESK_MEDIA_URL", "http://not-a-bucket/x"),
            ("NEWSDESK_BIND", "127.0.0.1:0"),
        ],
    );
    assert_eq!(made.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(stderr.contains("NEWSDESK_MEDIA_URL"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

both_engines!(apollo_upload_client_uploads_a_picture);
async fn apollo_upload_client_uploads_a_picture(engine: Engine) {
    let Some(room) = Newsroom::open(engine).await else {
        return;
    };
    let png = picture(800, 600, ImageFormat::Png);
    let (_dir, path) = crate::helpers::temp_file("a.png", &png);
    let endpoint = format!("{}/graphql", room.app.address);
    let token = room.token("reporter-a");
    let out = tokio::task::spawn_blocking(move || {
        crate::frontend::node(
            "upload.mjs",
            &[&endpoint, &token, &path.display().to_string()],
        )
    })
    .await
    .expect("node");
    let answer: Value = serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("{out}"));
    let id = answer["uploaded"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(
        (
            &answer["uploaded"]["width"],
            &answer["uploaded"]["caption"],
            &answer["uploaded"]["credit"]
        ),
        (&json!(800), &json!("日照港"), &json!("攝影 王偉")),
        "{answer}"
    );
    assert_eq!(
        answer["uploaded"]["url"],
        format!("https://news.example.test/media/{id}/320.jpg")
    );
    assert_eq!(
        answer["uploaded"]["photographer"]["name"], "王偉",
        "{answer}"
    );
    // Refused by its content; `$about` left out of the variables is no error.
    assert_eq!(
        answer["refused"][0]["code"], "UNSUPPORTED_MEDIA_TYPE",
        "{answer}"
    );
    assert_eq!(answer["read"]["id"], id, "{answer}");
    let rendition = fetch(&room, &format!("/media/{id}/320.jpg")).await;
    assert_eq!(rendition.status(), 200);
}
