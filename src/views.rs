//! The handlebars registry, compiled once at start-up: templates embedded in the
//! binary (read from `templates/` in debug builds, or from `templates_dir` when
//! set, for development), strict mode, and the `t` translation helper.
//!
//! Translations are flat TOML files, `templates/locales/<lang>.toml`, one
//! `key = "text"` a line, with `{name}` placeholders. That is all the grammar the
//! interface needs; a missing key falls back to zh-CN, then to the key itself,
//! and a test checks both files have the same keys.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext, RenderErrorReason,
};
use rust_embed::RustEmbed;
use serde::Serialize;

#[derive(RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
#[include = "*.toml"]
#[include = "static/*"]
struct Embedded;

pub const LOCALES: &[&str] = &["zh-CN", "en"];
pub use crate::localize::{Catalog, DEFAULT_LOCALE};

/// A file under `static/`: its content type and its bytes.
pub struct Static {
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub struct Views {
    hbs: Handlebars<'static>,
    catalog: Arc<Catalog>,
    /// The files under `static/` by the name they are served at, which holds
    /// a hash of their content (`site.3f2a….css`): immutable, so the web
    /// layer encodes each once and browsers cache it for a year.
    assets: HashMap<String, Static>,
    /// A static file's name (`site.css`) to the address it is served at.
    urls: HashMap<String, String>,
}

impl Views {
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Views> {
        let mut files: Vec<(String, String)> = Vec::new();
        let mut statics: Vec<(String, Vec<u8>)> = Vec::new();
        match dir {
            Some(d) => collect_dir(d, d, &mut files, &mut statics)?,
            None => {
                for name in Embedded::iter() {
                    if let Some(f) = Embedded::get(&name)
                        && let Some(file) = name.strip_prefix("static/")
                    {
                        statics.push((file.to_string(), f.data.to_vec()));
                    } else if let Some(f) = Embedded::get(&name) {
                        files.push((
                            name.to_string(),
                            String::from_utf8_lossy(&f.data).into_owned(),
                        ));
                    }
                }
            }
        }
        let mut catalog: Catalog = HashMap::new();
        let mut hbs = Handlebars::new();
        hbs.set_strict_mode(true);
        for (name, text) in &files {
            if let Some(rest) = name.strip_prefix("locales/") {
                let lang = rest.trim_end_matches(".toml").to_string();
                let map: HashMap<String, String> =
                    toml::from_str(text).map_err(|e| anyhow::anyhow!("templates/{name}: {e}"))?;
                catalog.insert(lang, map);
            } else if let Some(stem) = name.strip_suffix(".hbs") {
                hbs.register_template_string(stem, text)
                    .map_err(|e| anyhow::anyhow!("templates/{name}: {e}"))?;
            }
        }
        if !catalog.contains_key(DEFAULT_LOCALE) {
            anyhow::bail!("templates/locales/{DEFAULT_LOCALE}.toml is missing");
        }
        let catalog = Arc::new(catalog);
        let mut assets = HashMap::new();
        let mut urls = HashMap::new();
        let mut symbols = std::collections::HashSet::new();
        for (file, body) in statics {
            if file == "icons.svg" {
                symbols = sprite_symbols(&String::from_utf8_lossy(&body));
            }
            let (served, content_type) = asset_name(&file, &body);
            urls.insert(file, format!("/static/{served}"));
            assets.insert(served, Static { content_type, body });
        }
        hbs.register_helper("asset", Box::new(AssetUrl(urls.clone())));
        let sprite = urls
            .get("icons.svg")
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("templates/static/icons.svg is missing"))?;
        hbs.register_helper("icon", Box::new(Icon { sprite, symbols }));
        hbs.register_helper("t", Box::new(Translate(catalog.clone())));
        hbs.register_helper("eq", Box::new(eq));
        hbs.register_helper("inc", Box::new(inc));
        hbs.register_helper("concat", Box::new(concat));
        hbs.register_helper("list", Box::new(list));
        Ok(Views {
            hbs,
            catalog,
            assets,
            urls,
        })
    }

    pub fn render<T: Serialize>(&self, name: &str, data: &T) -> anyhow::Result<String> {
        self.hbs
            .render(name, data)
            .map_err(|e| anyhow::anyhow!("render {name}: {e}"))
    }

    pub fn has(&self, name: &str) -> bool {
        self.hbs.has_template(name)
    }

    /// A translated string outside templates (mail subjects, messages).
    pub fn tr(&self, lang: &str, key: &str) -> String {
        lookup(&self.catalog, lang, key)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// A message written in English, in `lang` (`localize`).
    pub fn localize(&self, lang: &str, message: &str) -> String {
        crate::localize::localize(&self.catalog, lang, message)
    }

    /// Fields and their messages as one line in `lang`.
    pub fn fields_line(
        &self,
        lang: &str,
        fields: &std::collections::BTreeMap<String, String>,
    ) -> String {
        crate::localize::fields_line(&self.catalog, lang, fields)
    }

    /// The address a static file (`icon.svg`) is served at.
    pub fn asset_url(&self, file: &str) -> Option<&str> {
        self.urls.get(file).map(String::as_str)
    }

    /// The static files by the hashed name each is served at.
    pub fn statics(&self) -> impl Iterator<Item = (&str, &Static)> {
        self.assets.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// The name a static file is served at (its stem, 12 hex digits of its
/// SHA-256, its extension) and its content type.
fn asset_name(file: &str, body: &[u8]) -> (String, &'static str) {
    use sha2::{Digest, Sha256};
    let hash = hex::encode(&Sha256::digest(body)[..6]);
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let content_type = match ext {
        "css" => "text/css; charset=utf-8",
        "js" => "application/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    };
    (format!("{stem}.{hash}.{ext}"), content_type)
}

/// `{{asset "site.css"}}`: the URL a static file is served at.
struct AssetUrl(HashMap<String, String>);

impl handlebars::HelperDef for AssetUrl {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let file = h
            .param(0)
            .and_then(|v| v.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("asset", 0))?;
        let url = self
            .0
            .get(file)
            .ok_or_else(|| RenderErrorReason::Other(format!("no static file {file:?}")))?;
        out.write(url)?;
        Ok(())
    }
}

/// `{{icon "check"}}`: an icon of the sprite `static/icons.svg` (cached once,
/// immutable), drawn in the text colour and hidden from screen readers: the
/// text beside it says what it means. Course covers use the course's slug, or
/// its category when the sprite has no picture of its own for it
/// (`{{icon slug fallback=category}}`).
struct Icon {
    sprite: String,
    symbols: std::collections::HashSet<String>,
}

/// The ids of the `<symbol id="…">` elements of a sprite.
fn sprite_symbols(svg: &str) -> std::collections::HashSet<String> {
    svg.split("<symbol id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

impl handlebars::HelperDef for Icon {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let name = h
            .param(0)
            .and_then(|v| v.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("icon", 0))?;
        let name = match h.hash_get("fallback").and_then(|v| v.value().as_str()) {
            Some(fallback) if !self.symbols.contains(name) => fallback,
            _ => name,
        };
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(RenderErrorReason::Other(format!("icon name {name:?}")).into());
        }
        out.write(&format!(
            r##"<svg class="i" aria-hidden="true"><use href="{}#{name}"/></svg>"##,
            self.sprite
        ))?;
        Ok(())
    }
}

fn collect_dir(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
    statics: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        let rel = p.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
        if p.is_dir() {
            collect_dir(root, &p, out, statics)?;
        } else if let Some(file) = rel.strip_prefix("static/") {
            statics.push((file.to_string(), std::fs::read(&p)?));
        } else if let Some(ext) = p.extension().and_then(|e| e.to_str())
            && (ext == "hbs" || ext == "toml")
        {
            out.push((rel, std::fs::read_to_string(&p)?));
        }
    }
    Ok(())
}

pub fn lookup(catalog: &Catalog, lang: &str, key: &str) -> String {
    catalog
        .get(lang)
        .and_then(|m| m.get(key))
        .or_else(|| catalog.get(DEFAULT_LOCALE).and_then(|m| m.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// `{{t "key" name=value}}`: the text of `key` in `@root.lang`, placeholders filled.
struct Translate(Arc<Catalog>);

impl handlebars::HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h
            .param(0)
            .and_then(|v| v.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = ctx
            .data()
            .get("lang")
            .and_then(|v| v.as_str())
            .unwrap_or(DEFAULT_LOCALE);
        let mut text = lookup(&self.0, lang, key);
        for (name, value) in h.hash() {
            text = text.replace(&format!("{{{name}}}"), &value.value().render());
        }
        out.write(&handlebars::html_escape(&text))?;
        Ok(())
    }
}

handlebars::handlebars_helper!(eq: |a: Json, b: Json| a == b);
// `{{inc @index}}`: a position counted from 1, as people count.
handlebars::handlebars_helper!(inc: |n: u64| n + 1);
handlebars::handlebars_helper!(concat: |*args| args.iter().map(|a| a.render()).collect::<String>());
handlebars::handlebars_helper!(list: |*args| serde_json::Value::Array(args.iter().map(|a| (*a).clone()).collect()));
