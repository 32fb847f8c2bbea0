//! The `fuzhi` command: parse the command line, then call into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fuzhi::config::Settings;
use fuzhi::{Application, StartOptions};
use migration::MigratorTrait;

#[derive(Parser)]
#[command(
    name = "fuzhi",
    version,
    about = "扶智 fuzhi — digital-skills training for rural households"
)]
struct Cli {
    /// A TOML settings file (default: ./fuzhi.toml when it exists, or FUZHI_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        /// Address to listen on.
        #[arg(long)]
        addr: Option<String>,
        /// Seed demo villages, households, courses and users (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage the administrative areas.
    Areas {
        #[command(subcommand)]
        command: AreasCommand,
    },
    /// Work with course packages (see courses/README.md).
    Courses {
        #[command(subcommand)]
        action: CoursesAction,
    },
    /// The household registry (建档立卡).
    Households {
        #[command(subcommand)]
        command: HouseholdsCommand,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Copy the database (SQLite: online, while the server serves) and the
    /// data folder's keys into an empty folder. PostgreSQL/MariaDB: see the
    /// README, Backups.
    Backup { dir: PathBuf },
    /// Put a backup made by `fuzhi backup` in place of the database; stop the
    /// server first.
    Restore {
        dir: PathBuf,
        /// Replace the database (and keys) that are there; the old ones are
        /// kept beside them.
        #[arg(long)]
        replace: bool,
        /// Restore a backup that lacks its key files, keeping the keys of
        /// this data folder: sessions signed before end, and stored ID
        /// numbers can no longer be matched.
        #[arg(long)]
        new_keys: bool,
    },
    /// Apply, revert or list database migrations.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an account; the password is read from stdin (or prompted).
    Create {
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "admin")]
        role: String,
        #[arg(long)]
        name: Option<String>,
        /// Area served (trainers, officials) or home village (learners).
        #[arg(long)]
        area: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum HouseholdsCommand {
    /// Import a CSV or XLSX file: all households or none. Every bad row is printed.
    Import {
        file: PathBuf,
        /// Accept only villages under this area code prefix (e.g. 530627102).
        #[arg(long)]
        area: Option<String>,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Write synthetic households as an import CSV (same seed, same file).
    Generate {
        #[arg(long, default_value_t = 1000)]
        households: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the households (default: households.csv); the
        /// villages go next to it as FILE.areas.csv, for `fuzhi areas import`.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The county (6 digits) the villages are made up in.
        #[arg(long, default_value = "530627")]
        county: String,
    },
}

#[derive(Subcommand)]
enum AreasCommand {
    /// Import an official division list (CSV: code,name,level,parent_code).
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum CoursesAction {
    /// Check a package folder and print every problem as file:line: message
    /// (a test a learner passes without reading is one, see courses/README.md),
    /// then every warning on how well its quizzes measure (a warning fails the
    /// check too, unless --allow-warnings).
    Check {
        #[arg(default_value = "courses")]
        dir: PathBuf,
        /// Print warnings but pass when there is no problem.
        #[arg(long)]
        allow_warnings: bool,
        /// Also print, per competence, the courses that claim it and their
        /// pre- and post-test question counts.
        #[arg(long)]
        coverage: bool,
        /// Also print, per course, each test's pass mark, the best score of a
        /// learner who does not read it, the margin between them and the
        /// rules that earn it.
        #[arg(long)]
        blind: bool,
    },
    /// Import a package folder (unchanged courses are skipped; changed ones become new versions).
    Import {
        #[arg(default_value = "courses")]
        dir: PathBuf,
    },
    /// Write a course from the database back as files.
    Export { slug: String, dir: PathBuf },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MigrateAction {
    Up,
    Down,
    Status,
}

/// Large allocations (an argon2 hash's 19 MiB, a spreadsheet being read)
/// go straight to the kernel and back when freed, instead of staying in the
/// allocator's arenas after a sign-in burst: glibc raises its mmap threshold
/// to the largest block freed, so without a fixed one the second argon2
/// buffer of each thread stays resident for good. Two arenas are plenty for
/// a server whose threads are one per core.
///
/// Freed memory in the middle of an arena stays resident until it is trimmed:
/// after a burst (a class opening its lessons at once, a large import) a
/// thread hands it back every `TRIM_EVERY`, so a quiet server returns to its
/// idle size instead of keeping its peak.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn bound_allocator() {
    const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
    // SAFETY: mallopt only changes allocator settings; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(TRIM_EVERY);
                // SAFETY: malloc_trim is thread-safe; it only releases free
                // pages back to the kernel.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        })
        .ok();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn bound_allocator() {}

fn main() -> ExitCode {
    bound_allocator();
    let cli = Cli::parse();
    if let Command::Courses {
        action:
            CoursesAction::Check {
                dir,
                allow_warnings,
                coverage,
                blind,
            },
    } = &cli.command
    {
        return courses_check(dir, *allow_warnings, *coverage, *blind);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FUZHI_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_target(false)
        .init();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints every problem and warning (exit 1; warnings alone exit 0 when
/// allowed) or a one-line summary (exit 0); the coverage and blind-score
/// tables on request. No database.
fn courses_check(
    dir: &std::path::Path,
    allow_warnings: bool,
    coverage: bool,
    blind: bool,
) -> ExitCode {
    let (skills, courses, mut problems) = fuzhi::courses::load_dir(dir);
    let review = fuzhi::courses::review(skills.as_ref(), &courses);
    if blind {
        println!("course\ttest\tpass mark\tblind\tmargin\trules");
        for b in &review.blind {
            let s = &b.score;
            println!(
                "{}\t{}\t{}%\t{}%\t{}\t{}",
                b.course,
                s.quiz,
                s.pass_mark,
                s.blind.percent,
                s.margin(),
                s.blind.describe()
            );
        }
    }
    if coverage {
        println!("competence\tpre\tpost\tcourses");
        for c in &review.coverage {
            println!(
                "{}\t{}\t{}\t{}",
                c.code,
                c.pre,
                c.post,
                c.courses.join(", ")
            );
        }
    }
    // What the review finds waits until the package is valid: fix what is
    // broken first. A test that does not measure is then a problem too.
    let valid = problems.is_empty();
    if valid {
        problems.extend(review.errors.iter().cloned());
    }
    let warnings = if valid { &review.warnings[..] } else { &[] };
    for p in problems.iter().chain(warnings) {
        println!("{p}");
    }
    if problems.is_empty() && (review.warnings.is_empty() || allow_warnings) {
        let lessons: usize = courses.iter().map(|c| c.course.lessons.len()).sum();
        let questions: usize = courses.iter().map(|c| c.course.question_count()).sum();
        let warned = match review.warnings.len() {
            0 => String::new(),
            n => format!(", {n} warnings"),
        };
        println!(
            "{} courses, {lessons} lessons, {questions} questions: no problems{warned}",
            courses.len()
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    fuzhi::catalog::files::set_root(&settings.data_dir.join("files"));
    match cli.command {
        Command::Serve { addr, demo } => {
            if let Some(a) = addr {
                settings.addr = a;
            }
            let app = Application::build(settings, StartOptions { demo }).await?;
            // The socket is bound and listening: from here a request is answered.
            println!("fuzhi: serving on http://{}", app.addr());
            if demo {
                print!("{}", fuzhi::demo::logins_text());
            }
            app.run().await?;
        }
        Command::Users {
            command:
                UsersCommand::Create {
                    login,
                    role,
                    name,
                    area,
                    email,
                },
        } => {
            let password = read_password()?;
            let db = fuzhi::connect(&settings).await?;
            let new = fuzhi::accounts::users::NewUser {
                display_name: name.unwrap_or_else(|| login.clone()),
                login,
                email,
                pin: fuzhi::accounts::Role::parse(&role) == Some(fuzhi::accounts::Role::Learner)
                    && password.len() == 6
                    && password.bytes().all(|b| b.is_ascii_digit()),
                password,
                role,
                area_code: area,
                ..Default::default()
            };
            let u = fuzhi::accounts::users::create(&db, None, &new)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("created {} {} (id {})", u.role.as_str(), u.login, u.id);
        }
        Command::Areas {
            command: AreasCommand::Import { file },
        } => {
            let data = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let db = fuzhi::connect(&settings).await?;
            match fuzhi::areas::import_csv(&db, &data).await {
                Ok(r) => println!("{} areas added, {} already present", r.added, r.unchanged),
                Err(e) => anyhow::bail!("{}", describe(&e)),
            }
        }
        // Needs no settings or database: handled in `main` before start-up.
        Command::Courses {
            action: CoursesAction::Import { dir },
        } => {
            let db = fuzhi::connect(&settings).await?;
            match fuzhi::catalog::store::import_dir(
                &db,
                &dir,
                fuzhi::catalog::store::Origin::Import,
            )
            .await
            {
                Ok(r) => {
                    println!("{} competences", r.competences);
                    for (slug, outcome) in r.courses {
                        println!("{slug}: {outcome:?}");
                    }
                }
                Err(e) => anyhow::bail!("{}", describe(&e)),
            }
        }
        Command::Courses {
            action: CoursesAction::Export { slug, dir },
        } => {
            let db = fuzhi::connect(&settings).await?;
            fuzhi::catalog::export::export(&db, &slug, &dir)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!("{slug} written to {}", dir.display());
        }
        Command::Courses { .. } => {}
        Command::Households {
            command: HouseholdsCommand::Import { file, area },
        } => households_import(settings, &file, area.as_deref()).await?,
        Command::Demo {
            command:
                DemoCommand::Generate {
                    households,
                    seed,
                    out,
                    county,
                },
        } => demo_generate(households, seed, out, &county)?,
        Command::Backup { dir } => {
            let b = fuzhi::backup::backup(&settings, &dir).await?;
            println!(
                "backup written to {} ({} bytes, {} new files of the file store){}",
                b.file.display(),
                b.bytes,
                b.files,
                if b.keys.is_empty() {
                    "; no key file in the data folder: keep the keys your settings give".to_string()
                } else {
                    format!(", with {}", b.keys.join(", "))
                }
            );
        }
        Command::Restore {
            dir,
            replace,
            new_keys,
        } => {
            let r = fuzhi::backup::restore(&settings, &dir, replace, new_keys).await?;
            println!("restored into {}", r.database.display());
            for k in &r.missing_keys {
                println!(
                    "the backup had no {k}: {}",
                    if k == "jwt.key" {
                        "everyone signs in again"
                    } else {
                        "ID numbers stored before cannot be matched with this data folder's key"
                    }
                );
            }
            if let Some((bytes, events)) = r.replaced {
                println!(
                    "it replaced a database of {} KB with {events} learning events",
                    bytes / 1024
                );
            }
            if let Some(k) = r.kept {
                println!("the database that was there is kept as {}", k.display());
            }
            if !r.keys.is_empty() {
                println!("keys restored: {}", r.keys.join(", "));
            }
        }
        Command::Migrate { action } => {
            let db = fuzhi::db::connect(&settings.database_url(), 1).await?;
            match action {
                MigrateAction::Up => migration::Migrator::up(&db, None).await?,
                MigrateAction::Down => migration::Migrator::down(&db, None).await?,
                MigrateAction::Status => {
                    for m in migration::Migrator::get_migration_with_status(&db).await? {
                        println!("{}\t{}", m.name(), m.status());
                    }
                }
            }
        }
    }
    Ok(())
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// `fuzhi households import FILE`: parse, check, write, with a progress bar;
/// every bad row printed and a non-zero exit when there is any.
async fn households_import(
    settings: Settings,
    file: &std::path::Path,
    area: Option<&str>,
) -> anyhow::Result<()> {
    use fuzhi::households::bulk::{self, Stage};
    use secrecy::ExposeSecret;
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let db = fuzhi::connect(&settings).await?;
    let scope = match area.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => fuzhi::households::import::significant_prefix(a).to_string(),
        None => String::new(),
    };
    let spinner = bar(1, "parse");
    let key = settings
        .secrets()?
        .id_hmac
        .expose_secret()
        .as_bytes()
        .to_vec();
    let parsed = bulk::parse_for(&db, None, &scope, &key, &bytes).await;
    spinner.finish();
    let plan = match parsed {
        Ok(p) => p,
        Err(e) => anyhow::bail!("{}", describe(&e)),
    };
    let check = bar(plan.member_count() as u64, "check");
    let write = bar(plan.households.len() as u64, "write");
    let mut progress = |s: Stage| match s {
        Stage::Check(done, _) => check.set_position(done),
        Stage::Write(done, _) => {
            check.finish();
            write.set_position(done)
        }
    };
    let done = bulk::import_plan_with(&db, &plan, None, &mut progress).await;
    check.finish();
    write.finish();
    match done {
        Ok(d) => {
            println!(
                "imported {} households, {} members in {:.1} s",
                d.imported,
                d.members,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => anyhow::bail!("{}", describe(&e)),
    }
}

/// `fuzhi demo generate`: synthetic households and their villages as CSV.
fn demo_generate(
    households: usize,
    seed: u64,
    out: Option<PathBuf>,
    county: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    let data = fuzhi::households::generate::generate(county, &[], households, seed)?;
    let out = out.unwrap_or_else(|| PathBuf::from("households.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&out)?);
    fuzhi::households::generate::write_import_csv(&data.households, &mut f)?;
    f.flush()?;
    let areas = out.with_extension("areas.csv");
    let a = data.areas_csv(county);
    std::fs::write(&areas, a)?;
    let members: usize = data.households.iter().map(|h| h.members.len()).sum();
    println!(
        "wrote {} households ({members} members) to {} and {} villages to {}",
        data.households.len(),
        out.display(),
        data.villages.len(),
        areas.display()
    );
    Ok(())
}

/// An error with its field or row details, for the terminal.
fn describe(e: &fuzhi::error::AppError) -> String {
    // The terminal is the operator's: internal causes are shown too.
    let mut out = e.to_string();
    for r in e.rows() {
        out.push_str(&format!("\n  row {}: {}: {}", r.row, r.field, r.message));
    }
    out
}

/// The password from stdin when piped, else from a prompt without echo.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        let _ = std::process::Command::new("stty").arg("-echo").status();
        let mut line = String::new();
        let r = stdin.lock().read_line(&mut line);
        let _ = std::process::Command::new("stty").arg("echo").status();
        eprintln!();
        r?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
