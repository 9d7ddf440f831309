//! The sign-in page: a name and a password. A control-room screen is enrolled by an
//! administrator instead, and the demo prints its accounts when it starts.

use crate::services::api;
use levels_shared::access::Me;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub on_signed_in: Callback<Me>,
}

#[function_component(LoginPage)]
pub fn login_page(props: &Props) -> Html {
    let name = use_state(String::new);
    let password = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (name, password, error, busy, done) = (
            name.clone(),
            password.clone(),
            error.clone(),
            busy.clone(),
            props.on_signed_in.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, password, error, busy, done) = (
                (*name).clone(),
                (*password).clone(),
                error.clone(),
                busy.clone(),
                done.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::login(&name, &password).await {
                    Ok(me) => done.emit(me),
                    Err(e) => {
                        error.set(Some(e));
                        busy.set(false);
                    }
                }
            });
        })
    };
    let field = |state: UseStateHandle<String>| {
        Callback::from(move |e: InputEvent| {
            state.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    html! {
        <main class="login">
            <form class="login-form" {onsubmit} aria-label="Sign in">
                <h1><span class="brand">{ "LEVELS" }</span>{ " · sign in" }</h1>
                <label>{ "Name" }
                    <input name="name" type="text" autocomplete="username" required=true
                        value={(*name).clone()} oninput={field(name.clone())} />
                </label>
                <label>{ "Password" }
                    <input name="password" type="password" autocomplete="current-password" required=true
                        value={(*password).clone()} oninput={field(password.clone())} />
                </label>
                <button type="submit" disabled={*busy}>{ "Sign in" }</button>
                if let Some(e) = &*error { <p class="error" role="alert">{ e }</p> }
            </form>
        </main>
    }
}
