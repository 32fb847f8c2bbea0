//! What tests send to the app under test, in one place: pages, JSON, forms,
//! uploads and enrolments as the holder of a session token (a bearer token:
//! no CSRF field needed), and a few readings of its database.

use serde::Serialize;
use serde_json::Value;

use super::{TestApp, multipart};

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A page as the holder of `token` sees it: its status and its text.
    pub async fn page(&self, token: &str, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// A page as `user` sees it (signed in afresh).
    pub async fn page_as(&self, user: i64, path: &str) -> (u16, String) {
        let token = self.token(user).await;
        self.page(&token, path).await
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let res = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// A form posted as the holder of `token`; the answer as it came
    /// (redirects are not followed).
    pub async fn submit<F: Serialize + ?Sized>(
        &self,
        token: &str,
        path: &str,
        form: &F,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// `submit`, read: the status, the `Location` (empty when none) and the
    /// body.
    pub async fn post_form<F: Serialize + ?Sized>(
        &self,
        token: &str,
        path: &str,
        form: &F,
    ) -> (u16, String, String) {
        let res = self.submit(token, path, form).await;
        let status = res.status().as_u16();
        let location = location(&res);
        (status, location, res.text().await.unwrap_or_default())
    }

    /// A file posted as the holder of `token`: a multipart body of the text
    /// `fields`, then the file `name` in the field `file`.
    pub async fn send_file(
        &self,
        token: &str,
        path: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let (content_type, body) = multipart(fields, name, bytes);
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `send_file`, read: the status and the body.
    pub async fn upload(
        &self,
        token: &str,
        path: &str,
        fields: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> (u16, String) {
        let res = self.send_file(token, path, fields, name, bytes).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// `body` posted whole (a file to import) as the holder of `token`.
    pub async fn post_body(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `post_body`, read as JSON: the status and the answer (null when it
    /// is not JSON).
    pub async fn import(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let res = self.post_body(token, path, content_type, body).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The holder of `token` enrolls in `course` through the API.
    pub async fn enroll(&self, token: &str, course: &str) -> (u16, Value) {
        self.post_json(
            &format!("/api/v1/courses/{course}/enroll"),
            token,
            serde_json::json!({}),
        )
        .await
    }

    /// The holder of `token` enrolls in `course` with the button of its page.
    pub async fn enroll_on_page(&self, token: &str, course: &str) -> reqwest::Response {
        self.submit(token, &format!("/courses/{course}/enroll"), NO_FORM)
            .await
    }

    /// A trainer (`token`) enrolls `learners` in `course` on her learner
    /// list; it must succeed.
    pub async fn enroll_learners(&self, token: &str, course: &str, learners: &[i64]) {
        let mut form = vec![("course", course.to_string())];
        form.extend(learners.iter().map(|l| ("user", l.to_string())));
        let (s, _, body) = self.post_form(token, "/teach/learners/enroll", &form).await;
        assert_eq!(s, 303, "{body}");
    }

    /// The draft of `course` as a package.
    pub async fn draft(&self, course: &str) -> fuzhi::courses::Course {
        let row = fuzhi::catalog::export::latest(
            self.conn(),
            course,
            &[fuzhi::entities::course::CourseStatus::Draft],
        )
        .await
        .unwrap()
        .expect("a draft");
        fuzhi::catalog::export::to_package(self.conn(), &row)
            .await
            .unwrap()
    }

    /// Row count of a table.
    pub async fn count(&self, table: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let db = self.conn();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// How many audit rows of `action` there are.
    pub async fn audit_count(&self, action: &str) -> i64 {
        self.count(&format!("change_event WHERE action = '{action}'"))
            .await
    }
}

/// An empty form.
pub const NO_FORM: &[(&str, &str)] = &[];

/// The `Location` of an answer (empty when none).
fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A client that neither asks for nor undoes any encoding by itself, and
/// does not follow redirects.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A synthetic (checksum-valid) identity number of Zhenxiong county, born on
/// 1 March `year`.
pub fn id_number(year: i32, seq: u16) -> String {
    id_number_born(year, 3, 1, seq)
}

/// A synthetic identity number of Zhenxiong county, born on that day.
pub fn id_number_born(year: i32, month: u32, day: u32, seq: u16) -> String {
    fuzhi::households::NationalId::synthetic(
        "530627",
        chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap(),
        seq,
    )
    .unwrap()
    .expose()
    .to_owned()
}
