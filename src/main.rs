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
    /// Work with course packages (see COURSES.md).
    Courses {
        #[command(subcommand)]
        action: CoursesAction,
    },
    /// Apply, revert or list database migrations.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        action: MigrateAction,
    },
}

#[derive(Subcommand)]
enum CoursesAction {
    /// Check a package folder and print every problem as file:line: message.
    Check {
        #[arg(default_value = "courses")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MigrateAction {
    Up,
    Down,
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Courses {
        action: CoursesAction::Check { dir },
    } = &cli.command
    {
        return courses_check(dir);
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

/// Prints every problem (exit 1) or a one-line summary (exit 0). No database.
fn courses_check(dir: &std::path::Path) -> ExitCode {
    let (_, courses, problems) = fuzhi::courses::load_dir(dir);
    if problems.is_empty() {
        let lessons: usize = courses.iter().map(|c| c.course.lessons.len()).sum();
        let questions: usize = courses.iter().map(|c| c.course.question_count()).sum();
        println!(
            "{} courses, {lessons} lessons, {questions} questions: no problems",
            courses.len()
        );
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("{p}");
        }
        ExitCode::FAILURE
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { addr, demo } => {
            if let Some(a) = addr {
                settings.addr = a;
            }
            let app = Application::build(settings, StartOptions { demo }).await?;
            println!("fuzhi: serving on http://{}", app.addr());
            app.run().await?;
        }
        // Needs no settings or database: handled in `main` before start-up.
        Command::Courses { .. } => {}
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
